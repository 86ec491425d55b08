import { loadConfig } from "../config.js";
import { migrate, storeFeatures } from "../store/migrate.js";
import { openSql } from "../store/open.js";
import { type Command, parseFlags } from "./command.js";

export const command: Command = {
  usage: [
    "Usage: slo-scout migrate",
    "",
    "Applies the SQL migrations in schemas/migrations/ to DATABASE_URL (PGlite or Postgres) and prints",
    'each one applied, or "up to date". Running it again changes nothing.',
  ].join("\n"),
  async run(args) {
    parseFlags({ args, options: {}, allowPositionals: false });
    const config = loadConfig();
    const sql = await openSql(config);
    try {
      const result = await migrate(sql);
      for (const name of result.applied) process.stdout.write(`applied ${name}\n`);
      if (result.applied.length === 0) process.stdout.write("up to date\n");
      const features = await storeFeatures(sql);
      if (features.vectors === "exact") {
        process.stdout.write(
          "note: the pgvector extension is not available on this server; vector search is exact (no HNSW index)\n",
        );
      }
      if (features.timescale) process.stdout.write("timescaledb: time tables are hypertables\n");
      return 0;
    } finally {
      await sql.close();
    }
  },
};
