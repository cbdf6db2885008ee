import { lstat } from "node:fs/promises";
import { expect, onTestFinished, test, vi } from "vitest";
import { tempPath } from "./_test_support.ts";
import { listenUnix } from "./listen_unix.ts";

// Records each socket file's mode at the moment listenUnix() chmods it: the mode it was born with.
const bornWith: number[] = [];
vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  return {
    ...fs,
    chmod: async (path: string, mode: number) => {
      bornWith.push((await fs.lstat(path)).mode & 0o777);
      return fs.chmod(path, mode);
    },
  };
});

test("listenUnix() binds the socket file with no more permission than its mode, even under umask 0", async () => {
  const { path } = await tempPath();
  const previous = process.umask(0);
  onTestFinished(() => void process.umask(previous));
  const server = await listenUnix({ path, handler: () => {} });
  expect(process.umask(previous)).toBe(0); // the umask is back to what it was
  expect(bornWith).toEqual([0o600]);
  expect((await lstat(path)).mode & 0o777).toBe(0o600);
  await server.close();
});
