{
  "targets": [
    {
      "target_name": "socklab_native",
      "sources": ["c/addon.c", "c/unix_dgram.c", "c/unix_stream.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
