// Embedded test databases, reused within a process. Loading a PGlite instance from the migrated
// template costs about 400 ms, and a test process (a group of files, scripts/test.mjs) makes
// dozens; returning a dropped instance to the template's state costs 55-100 ms here. The reset
// checks itself: after it, the instance must match the template in schema (tables, columns,
// triggers and whether each is enabled, functions, indexes, constraints, sequences' values,
// schemas, roles) and in every row, or it is closed instead of reused. So a test that disabled a
// trigger, dropped one, added a table or left rows behind never hands that to the next test.
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';

/** One string that changes when anything a test could leave behind differs (see above). */
const STATE = `
SELECT md5(string_agg(x, '|' ORDER BY x)) AS state FROM (
  SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(column_default, '') || ' ' || is_nullable FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT 'trigger ' || tgrelid::regclass::text || '.' || tgname || ' ' || tgenabled::text || ' ' || tgfoid::regprocedure::text FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
  UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'
  UNION ALL SELECT 'sequence ' || sequencename || ' ' || coalesce(last_value, 0)::text FROM pg_sequences
  UNION ALL SELECT 'view ' || table_name FROM information_schema.views WHERE table_schema = 'public'
  UNION ALL SELECT 'schema ' || nspname FROM pg_namespace
  UNION ALL SELECT 'role ' || rolname FROM pg_roles
  UNION ALL SELECT 'extension ' || extname FROM pg_extension
  UNION ALL SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public'
) AS facts(x)`;

const TABLES = `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;

interface Template {
  blob: Blob;
  state: string;
  tables: string[];
  /** Each table's rows in the template, as JSON (a few seed rows; most tables are empty). */
  rows: Map<string, string>;
}

async function rowsOf(pglite: PGlite, tables: string[]): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  for (const table of tables) {
    const [row] = (await pglite.query<{ rows: string | null }>(`SELECT json_agg(t)::text AS rows FROM ${table} t`)).rows;
    rows.set(table, row?.rows ?? '[]');
  }
  return rows;
}

async function stateOf(pglite: PGlite): Promise<string> {
  return (await pglite.query<{ state: string }>(STATE)).rows[0]!.state;
}

/**
 * How long a reset instance waits for the next test before it is closed. Postgres inside PGlite
 * leaves a timer armed between statements (a Node timeout that keeps a process alive), which
 * closing clears: an instance nobody takes must be closed, or the last test's process would not
 * exit. Tests in a process follow each other within milliseconds.
 */
const IDLE_MS = 2_000;

export class PGlitePool {
  private template: Promise<Template> | undefined;
  private readonly idle: { pglite: PGlite; timer: NodeJS.Timeout }[] = [];
  /** Instances a test holds: only these may be given back, once each. */
  private readonly lent = new Set<PGlite>();

  constructor(private readonly file: string) {}

  private load(): Promise<Template> {
    this.template ??= (async () => {
      const blob = new Blob([readFileSync(this.file)]);
      const pglite = await PGlite.create({ loadDataDir: blob });
      const tables = (await pglite.query<{ name: string }>(TABLES)).rows.map((r) => r.name);
      const template = { blob, tables, rows: await rowsOf(pglite, tables), state: await stateOf(pglite) };
      // Only read: it is in the template's state, so it serves the first take().
      this.keep(pglite);
      return template;
    })();
    return this.template;
  }

  /** Keeps an instance in the template's state for the next take(), closed if none comes within IDLE_MS. */
  private keep(pglite: PGlite): void {
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((k) => k.pglite === pglite);
      if (at >= 0) this.idle.splice(at, 1);
      void pglite.close().catch(() => undefined);
    }, IDLE_MS).unref();
    this.idle.push({ pglite, timer });
  }

  /** An instance in the template's state: an idle one, or one loaded from the template. */
  async take(): Promise<PGlite> {
    const template = await this.load();
    const kept = this.idle.pop();
    if (kept) clearTimeout(kept.timer);
    const pglite = kept?.pglite ?? (await PGlite.create({ loadDataDir: template.blob }));
    this.lent.add(pglite);
    return pglite;
  }

  /** Resets `pglite` to the template's state and keeps it for the next take(), or closes it when it cannot be. */
  async give(pglite: PGlite): Promise<void> {
    // Given back already (a test that closes its database and then drops it, at once or in turn):
    // kept twice, one instance would go to two later tests, each reset under the other. The check
    // is synchronous, so two gives racing each other cannot both pass it.
    if (!this.lent.delete(pglite) || pglite.closed) return;
    const template = await this.load();
    try {
      await pglite.exec('DISCARD ALL');
      await pglite.exec(`TRUNCATE ${template.tables.join(', ')} RESTART IDENTITY CASCADE`);
      for (const [table, rows] of template.rows) {
        if (rows !== '[]') await pglite.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1::json)`, [rows]);
      }
      // The state names every table, so the same state means the template's tables, whose rows are compared.
      const same = (await stateOf(pglite)) === template.state && [...(await rowsOf(pglite, template.tables))].every(([t, r]) => template.rows.get(t) === r);
      if (same) {
        this.keep(pglite);
        return;
      }
    } catch {
      // A reset that fails (an instance a test broke) is no reason to fail that test: close it.
    }
    await pglite.close().catch(() => undefined);
  }
}
