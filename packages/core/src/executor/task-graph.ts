import { compileGraph, type CompiledGraph, type TaskDeclaration } from './compile-graph.ts';
import { GraphRun } from './graph-run.ts';
import type { RunOptions, TaskFunction, TaskOptions, TaskOutcome } from './task-definition.ts';

type Simplify<T> = { [K in keyof T]: T[K] };

/** The results of a graph with no tasks yet. */
type NoResults = Record<never, never>;

/** Each task's outcome in a settled run, by task name. */
export type SettledResults<Results> = { [K in keyof Results]: TaskOutcome<Results[K]> };

/**
 * Declares a task graph one task at a time. Each `task` names the tasks it depends on; its
 * function receives their results, typed. Build once (validation happens here), run per request.
 *
 * @example
 * ```ts
 * const briefing = taskGraph<{ patientId: string }>()
 *   .task('patient', (_, { input, signal }) => patients.getById(input.patientId, { signal }))
 *   .task('collection', (_, { signal }) => store.info('guidelines', { signal }))
 *   .task('brief', ['patient', 'collection'], ({ patient, collection }) => summarise(patient, collection))
 *   .build();
 * const { brief } = await briefing.run({ patientId: '1' }, { signal });
 * ```
 */
export class TaskGraphBuilder<Input = void, Results extends Record<string, unknown> = NoResults> {
  private readonly declarations: readonly TaskDeclaration[];

  /** @internal Use `taskGraph()`. */
  constructor(declarations: readonly TaskDeclaration[] = []) {
    this.declarations = declarations;
  }

  /** A task with no dependencies: it starts as soon as the run starts. */
  task<const Name extends string, Result>(
    name: NewName<Name, Results>,
    run: TaskFunction<NoResults, Input, Result>,
    options?: TaskOptions,
  ): TaskGraphBuilder<Input, Simplify<Results & { [K in Name]: Awaited<Result> }>>;
  /** A task that starts the moment the last of `dependsOn` resolves, and receives their results. */
  task<const Name extends string, const Dependencies extends readonly (keyof Results & string)[], Result>(
    name: NewName<Name, Results>,
    dependsOn: Dependencies,
    run: TaskFunction<Simplify<Pick<Results, Dependencies[number]>>, Input, Result>,
    options?: TaskOptions,
  ): TaskGraphBuilder<Input, Simplify<Results & { [K in Name]: Awaited<Result> }>>;
  task(
    name: string,
    dependsOnOrRun: readonly string[] | AnyTaskFunction,
    runOrOptions?: AnyTaskFunction | TaskOptions,
    maybeOptions?: TaskOptions,
  ): TaskGraphBuilder<Input, Record<string, unknown>> {
    const declaration: TaskDeclaration =
      typeof dependsOnOrRun === 'function'
        ? { name, dependsOn: [], run: dependsOnOrRun as TaskDeclaration['run'], options: runOrOptions as TaskOptions | undefined }
        : { name, dependsOn: dependsOnOrRun, run: runOrOptions as TaskDeclaration['run'], options: maybeOptions };
    if (typeof declaration.run !== 'function') {
      throw new TypeError(`Expected the function of task \`${name}\` to be a function, got \`${String(declaration.run)}\` (${typeof declaration.run})`);
    }
    return new TaskGraphBuilder([...this.declarations, declaration]);
  }

  /**
   * Validates the graph: throws UNKNOWN_DEPENDENCY for a name not declared and CYCLE naming the
   * cycle (`a -> b -> a`, read "depends on"), so a broken graph fails where it is built.
   */
  build(): TaskGraph<Input, Results> {
    return new TaskGraph<Input, Results>(compileGraph(this.declarations));
  }
}

/** Any task function, whatever its dependencies and input (the overloads carry the types). */
type AnyTaskFunction = (dependencies: never, context: never) => unknown;

/** A task name that is not yet taken (a duplicate is a type error, and a runtime error). */
type NewName<Name extends string, Results> = Name extends keyof Results ? never : Name;

/** A validated task graph. Immutable; safe to run concurrently any number of times. */
export class TaskGraph<Input = void, Results extends Record<string, unknown> = Record<string, unknown>> {
  private readonly compiled: CompiledGraph;

  /** @internal Use `taskGraph()...build()` or `TaskGraph.fromDeclarations`. */
  constructor(compiled: CompiledGraph) {
    this.compiled = compiled;
  }

  /**
   * Builds a graph from declarations known only at run time (from configuration or data).
   * Results are untyped; the same validation applies.
   */
  static fromDeclarations<Input = void>(
    declarations: readonly {
      name: string;
      dependsOn?: readonly string[];
      run: TaskFunction<Record<string, unknown>, Input, unknown>;
      options?: TaskOptions;
    }[],
  ): TaskGraph<Input, Record<string, unknown>> {
    return new TaskGraph(
      compileGraph(
        declarations.map((declaration) => ({
          name: declaration.name,
          dependsOn: declaration.dependsOn ?? [],
          run: declaration.run as TaskDeclaration['run'],
          options: declaration.options,
        })),
      ),
    );
  }

  /** Task names in declaration order. */
  get taskNames(): readonly string[] {
    return this.compiled.tasks.map((task) => task.name);
  }

  /** The names a task depends on. */
  dependenciesOf(name: keyof Results & string): readonly string[] {
    return this.compiled.tasks.find((task) => task.name === name)?.dependsOn ?? [];
  }

  /**
   * Runs every task; resolves with all results by name. The first failure aborts every
   * in-flight task through its signal and the run rejects with that failure (an AidocError).
   * An aborted `options.signal` rejects with ABORTED at once.
   */
  run(...[input, options]: RunArguments<Input>): Promise<Results> {
    return new GraphRun(this.compiled, input, options, 'fail-fast').start() as Promise<Results>;
  }

  /**
   * Runs every task it can and reports each outcome: fulfilled, rejected, or skipped (a
   * dependency failed). Failures do not abort siblings. An aborted signal still rejects.
   */
  settle(...[input, options]: RunArguments<Input>): Promise<SettledResults<Results>> {
    return new GraphRun(this.compiled, input, options, 'settle').start() as Promise<SettledResults<Results>>;
  }
}

/** `run()` / `run(undefined, options)` for graphs without input, `run(input, options?)` otherwise. */
type RunArguments<Input> = [Input] extends [void] ? [input?: Input, options?: RunOptions] : [input: Input, options?: RunOptions];

/**
 * Starts a task graph. `Input` types the value each run passes to every task (`context.input`).
 */
export function taskGraph<Input = void>(): TaskGraphBuilder<Input, NoResults> {
  return new TaskGraphBuilder<Input, NoResults>();
}
