// Asks a Kafka broker for its metadata over the raw protocol (no client library, so it runs before
// `npm ci`): exits 0 when the broker answers with at least one live broker, i.e. it is registered with
// its KRaft controller and ready for clients, not merely listening.
//   node probe.mjs [host] [port]
import { connect } from "node:net";

const [host = "127.0.0.1", port = "9092"] = process.argv.slice(2);
const clientId = Buffer.from("slo-scout-probe");
// Metadata v4 (the oldest version Kafka 4 accepts; non-flexible header v1): api key 3, correlation id 1,
// client id, an empty topic list and allow_auto_topic_creation=false.
const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
let at = body.writeInt16BE(3, 0);
at = body.writeInt16BE(4, at);
at = body.writeInt32BE(1, at);
at = body.writeInt16BE(clientId.length, at);
at += clientId.copy(body, at);
at = body.writeInt32BE(0, at);
body.writeInt8(0, at);
const size = Buffer.alloc(4);
size.writeInt32BE(body.length);

const fail = (why) => {
  process.stderr.write(`kafka probe ${host}:${port}: ${why}\n`);
  process.exit(1);
};
const socket = connect({ host, port: Number(port) }, () => socket.write(Buffer.concat([size, body])));
socket.setTimeout(3000, () => fail("no answer within 3 s"));
socket.on("error", (err) => fail(err.message));
let got = Buffer.alloc(0);
socket.on("data", (chunk) => {
  got = Buffer.concat([got, chunk]);
  // Response: size, correlation id, throttle_time_ms, then the broker array's length.
  if (got.length < 16) return;
  const brokers = got.readInt32BE(12);
  socket.destroy();
  if (got.readInt32BE(4) !== 1 || brokers < 1) fail(`no live broker in the metadata (${brokers})`);
  process.exit(0);
});
