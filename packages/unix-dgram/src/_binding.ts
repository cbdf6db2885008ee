/**
 * The UNIX datagram binding, from socklab's addon in `@socklab/native`
 * (prebuilt for linux-x64 and linux-arm64), under the names this package uses.
 *
 * @module
 */
export {
  FLAG_TRUNCATED,
  loadUnixDgramBinding as loadBinding,
  type RecvCallback,
  type UnixDgramBinding,
} from "@socklab/native";
