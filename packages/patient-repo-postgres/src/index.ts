/**
 * `@aidoc/patient-repo-postgres`: the PatientRepository contract over PostgreSQL (pg). One
 * factory, {@link createPostgresPatientRepository}, taking the application's `pg.Pool` or a
 * connection string.
 *
 * @packageDocumentation
 */
export { createPostgresPatientRepository, type PostgresPatientRepository } from './postgres-patient-repository.ts';
export type { PostgresPatientRepositorySettings } from './postgres-patient-repository-settings.ts';
export { MIGRATIONS_TABLE } from './postgres-migration-runner.ts';
export { POSTGRES_MIGRATIONS, type PostgresMigration } from './postgres-migrations.ts';
