// The part of autocannon@9 the load benchmark uses (the package ships no type declarations).
declare module 'autocannon' {
  interface AutocannonRequest {
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
    onResponse?(status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>): void;
  }

  interface AutocannonOptions {
    readonly url: string;
    readonly connections?: number;
    readonly duration?: number;
    readonly timeout?: number;
    readonly method?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly requests?: readonly AutocannonRequest[];
  }

  interface AutocannonHistogram {
    readonly average: number;
    readonly mean: number;
    readonly stddev: number;
    readonly min: number;
    readonly max: number;
    readonly total: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
  }

  interface AutocannonResult {
    readonly latency: AutocannonHistogram;
    readonly requests: AutocannonHistogram;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
    readonly '2xx': number;
    readonly duration: number;
  }

  /** A running job: resolves with the result, and reports each response as it arrives. */
  interface AutocannonRun extends PromiseLike<AutocannonResult> {
    /** `responseTime` is in milliseconds, from the request being written to the response being read. */
    on(event: 'response', listener: (client: unknown, statusCode: number, responseBytes: number, responseTime: number) => void): this;
  }

  function autocannon(options: AutocannonOptions): AutocannonRun;
  export default autocannon;
}
