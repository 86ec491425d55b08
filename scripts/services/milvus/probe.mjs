// Prints the version of the Milvus at <host:port> and exits 0 when it reports itself healthy, through the
// same Node SDK the vector adapter uses; exits 1 with the reason otherwise. Run by scripts/services/milvus.sh.
import { MilvusClient } from "@zilliz/milvus2-sdk-node";

const address = process.argv[2] ?? "127.0.0.1:19530";
const client = new MilvusClient({ address, timeout: 3000, logLevel: "error" });
try {
  const health = await client.checkHealth();
  if (!health.isHealthy) throw new Error(`unhealthy: ${JSON.stringify(health.reasons)}`);
  const { version } = await client.getVersion();
  console.log(String(version).replace(/^v/, ""));
  process.exitCode = 0;
} catch (err) {
  console.error(`milvus at ${address}: ${err.message}`);
  process.exitCode = 1;
} finally {
  await client.closeConnection().catch(() => {});
}
