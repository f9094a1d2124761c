/**
 * The schema, as an ordered list of versioned migrations. They are TypeScript string constants
 * rather than `.sql` files: the package ships as a bundle (ESM and CJS), so there is no asset to
 * list in `files`, to resolve from `import.meta.url` at run time or to lose in a serverless
 * bundler, and nothing is read from disk. Each migration runs once per schema, inside the
 * runner's transaction, with `search_path` set to the target schema, so the SQL names no schema.
 *
 * Never edit a released migration: add the next version.
 */
export interface PostgresMigration {
  /** Applied in ascending order; recorded in `aidoc_migrations.version`. */
  readonly version: number;
  /** A short description, recorded alongside the version. */
  readonly name: string;
  readonly sql: string;
}

/**
 * Version 1: the patient record as six tables. Every child table keeps the record's array order
 * in `position` (0-based), and its primary key `(patient_id, position)` is the index that serves
 * `where patient_id = $1 order by position` (its leading column is the foreign key).
 */
const patientTables: PostgresMigration = {
  version: 1,
  name: 'patient record tables',
  sql: `
create table patients (
  id bigint primary key check (id > 0),
  given_name text not null,
  family_name text not null,
  birth_date date not null,
  sex text not null check (sex in ('female', 'male', 'other', 'unknown'))
);

create table conditions (
  patient_id bigint not null references patients (id) on delete cascade,
  position integer not null check (position >= 0),
  code text,
  name text not null,
  status text not null check (status in ('active', 'resolved')),
  onset_date date,
  primary key (patient_id, position)
);

create table medications (
  patient_id bigint not null references patients (id) on delete cascade,
  position integer not null check (position >= 0),
  name text not null,
  dose text not null,
  frequency text not null,
  route text,
  start_date date,
  primary key (patient_id, position)
);

create table allergies (
  patient_id bigint not null references patients (id) on delete cascade,
  position integer not null check (position >= 0),
  substance text not null,
  reaction text,
  severity text check (severity in ('mild', 'moderate', 'severe')),
  primary key (patient_id, position)
);

create table labs (
  patient_id bigint not null references patients (id) on delete cascade,
  position integer not null check (position >= 0),
  name text not null,
  code text,
  value numeric not null,
  unit text not null,
  date date not null,
  reference_low numeric,
  reference_high numeric,
  primary key (patient_id, position)
);

create table notes (
  patient_id bigint not null references patients (id) on delete cascade,
  position integer not null check (position >= 0),
  date date not null,
  author text,
  text text not null,
  primary key (patient_id, position)
);
`,
};

/** Every migration, in version order. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze([patientTables]);
