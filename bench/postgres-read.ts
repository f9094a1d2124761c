// How @aidoc/patient-repo-postgres reads one full patient record: ONE statement (the patient's
// row plus a json_agg subquery per child table: one round trip, one connection), against the
// alternative, SIX statements sent concurrently on separate pooled connections (the patient's
// row and one per child table), both on the same 16-connection pool. p50 and p95 of getById at
// concurrency 1 and 16, interleaved round by round; the ratio is one statement / per table.
// Needs a PostgreSQL server (PG_BENCH_URL, else PG_TEST_URL, else DATABASE_URL, else the local
// trust-auth server); without one it reports nothing. Part of `npm run bench`; also runs alone:
//   node --conditions=@aidoc/source bench/postgres-read.ts [--quick]
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { PatientRecordSchema, type PatientRecord } from '@aidoc/core';
import { samplePatientsFile } from '@aidoc/local';
import { createPostgresPatientRepository } from '@aidoc/patient-repo-postgres';
import pg from 'pg';
import type { Benchmark, BenchResult } from './lib/bench-result.ts';
import { percentile, round } from './lib/measure.ts';

const DATABASE_URL = process.env.PG_BENCH_URL ?? process.env.PG_TEST_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POOL_SIZE = 16;
const PATIENTS = 1_000;
const CONCURRENCIES = [1, 16] as const;
const ROUNDS = 6;

type Read = (id: string) => Promise<PatientRecord>;

export const postgresRead: Benchmark = {
  name: 'postgres patient read',
  async run(scale) {
    const readsPerVariant = scale === 'full' ? 3_000 : 300;
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL_SIZE });
    pool.on('error', () => undefined);
    try {
      await pool.query('select 1');
    } catch (error) {
      await pool.end();
      process.stderr.write(`bench: postgres patient read skipped: no PostgreSQL at ${redact(DATABASE_URL)} (${error instanceof Error ? error.message : String(error)})\n`);
      return [];
    }
    const schema = `aidoc_bench_${randomBytes(5).toString('hex')}`;
    const repository = createPostgresPatientRepository({ pool, schema });
    try {
      await repository.migrate();
      // 1,000 patients cloned from the six samples (5 to 10 labs, 3 to 6 medications each).
      const samples = PatientRecordSchema.array().parse(JSON.parse(await readFile(samplePatientsFile, 'utf8')));
      await repository.seed(Array.from({ length: PATIENTS }, (_, index) => ({ ...samples[index % samples.length]!, id: String(index + 1) })));
      await pool.query('analyze');

      const variants: Record<'oneStatement' | 'perTable', Read> = {
        oneStatement: (id) => repository.getById(id),
        perTable: perTableReader(pool, schema),
      };
      // Both variants read the same records.
      for (const id of ['1', '2', '6', '1000']) {
        const [one, perTable] = await Promise.all([variants.oneStatement(id), variants.perTable(id)]);
        if (JSON.stringify(one) !== JSON.stringify(perTable)) throw new Error(`the two readers disagree on patient ${id}`);
      }

      const rows: BenchResult[] = [];
      for (const concurrency of CONCURRENCIES) {
        const latencies = { oneStatement: [] as number[], perTable: [] as number[] };
        const wallMs = { oneStatement: 0, perTable: 0 };
        const warmUp = Math.min(200, readsPerVariant);
        for (const name of ['oneStatement', 'perTable'] as const) await readMany(variants[name], warmUp, concurrency, []);
        for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
          const order = roundIndex % 2 === 0 ? (['oneStatement', 'perTable'] as const) : (['perTable', 'oneStatement'] as const);
          for (const name of order) wallMs[name] += await readMany(variants[name], Math.ceil(readsPerVariant / ROUNDS), concurrency, latencies[name]);
        }
        const figures = {
          oneStatementP50Ms: round(percentile(latencies.oneStatement, 50), 3),
          oneStatementP95Ms: round(percentile(latencies.oneStatement, 95), 3),
          perTableP50Ms: round(percentile(latencies.perTable, 50), 3),
          perTableP95Ms: round(percentile(latencies.perTable, 95), 3),
          oneStatementReadsPerSecond: Math.round((latencies.oneStatement.length / wallMs.oneStatement) * 1_000),
          perTableReadsPerSecond: Math.round((latencies.perTable.length / wallMs.perTable) * 1_000),
          readsPerVariant: latencies.oneStatement.length,
          poolSize: POOL_SIZE,
        };
        for (const quantile of ['p50', 'p95'] as const) {
          const one = quantile === 'p50' ? figures.oneStatementP50Ms : figures.oneStatementP95Ms;
          const perTable = quantile === 'p50' ? figures.perTableP50Ms : figures.perTableP95Ms;
          rows.push({
            name: `getById, concurrency ${concurrency}: ${quantile}`,
            metric: 'one statement / 6 concurrent per-table statements',
            value: round(one / perTable, 3),
            target: 1,
            unit: 'x',
            details: figures,
          });
        }
      }
      return rows;
    } finally {
      await repository.close();
      await pool.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`).catch(() => undefined);
      await pool.end();
    }
  },
};

/** Runs `count` reads of random ids, `concurrency` at a time; pushes each latency (ms); returns the wall time (ms). */
async function readMany(read: Read, count: number, concurrency: number, latencies: number[]): Promise<number> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      const id = String(1 + Math.floor(Math.random() * PATIENTS));
      const start = performance.now();
      await read(id);
      latencies.push(performance.now() - start);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - start;
}

/**
 * The alternative design, written here only to be measured: the patient's row and each child
 * table in its own statement, all six sent at once on separate pooled connections, assembled
 * and validated like the repository's reader.
 */
function perTableReader(pool: pg.Pool, schema: string): Read {
  const s = pg.escapeIdentifier(schema);
  const date = (column: string): string => `to_char(${column}, 'YYYY-MM-DD')`;
  const children = {
    conditions: `json_build_object('code', code, 'name', name, 'status', status, 'onsetDate', ${date('onset_date')})`,
    medications: `json_build_object('name', name, 'dose', dose, 'frequency', frequency, 'route', route, 'startDate', ${date('start_date')})`,
    allergies: `json_build_object('substance', substance, 'reaction', reaction, 'severity', severity)`,
    labs: `json_build_object('name', name, 'code', code, 'value', value, 'unit', unit, 'date', ${date('date')}, 'referenceRange', json_build_object('low', reference_low, 'high', reference_high))`,
    notes: `json_build_object('date', ${date('date')}, 'author', author, 'text', text)`,
  };
  const patientSql = `select id::text as id, given_name, family_name, ${date('birth_date')} as birth_date, sex from ${s}.patients where id = $1::bigint`;
  const childSql = Object.entries(children).map(
    ([table, object]) => [table, `select coalesce(json_agg(json_strip_nulls(${object}) order by position), '[]'::json) as items from ${s}.${table} where patient_id = $1::bigint`] as const,
  );
  return async (id) => {
    const [patient, ...lists] = await Promise.all([
      pool.query<{ id: string; given_name: string; family_name: string; birth_date: string; sex: string }>(patientSql, [id]),
      ...childSql.map(([, sql]) => pool.query<{ items: unknown[] }>(sql, [id])),
    ]);
    const row = patient.rows[0];
    if (row === undefined) throw new Error(`patient ${id} not found`);
    return PatientRecordSchema.parse({
      id: row.id,
      name: { given: row.given_name, family: row.family_name },
      birthDate: row.birth_date,
      sex: row.sex,
      ...Object.fromEntries(childSql.map(([table], index) => [table, lists[index]!.rows[0]!.items])),
    });
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

// Run alone: print the rows.
if (import.meta.main) {
  for (const row of await postgresRead.run(process.argv.includes('--quick') ? 'quick' : 'full')) {
    console.log(`${row.name}: ${row.metric} = ${row.value}${row.unit ?? ''} (target <= ${row.target}) ${JSON.stringify(row.details)}`);
  }
}
