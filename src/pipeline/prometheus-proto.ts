import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/**
 * The Prometheus remote protocol messages (remote_write 1.0 and remote_read) from
 * `schemas/prometheus/remote.proto`, loaded once for the receiver and the clients alike.
 */

let root: protobuf.Root | undefined;

export function prometheusType(
  name: "WriteRequest" | "ReadRequest" | "ReadResponse" | "ChunkedReadResponse",
): protobuf.Type {
  if (!root) {
    const file = fileURLToPath(new URL("../../schemas/prometheus/remote.proto", import.meta.url));
    root = protobuf.loadSync(file);
  }
  return root.lookupType(`prometheus.${name}`);
}
