{
  "targets": [
    {
      "target_name": "socklab_unix_dgram",
      "sources": ["native/unix_dgram.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
