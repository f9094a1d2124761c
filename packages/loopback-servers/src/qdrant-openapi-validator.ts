import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * Checks request and response bodies against the official Qdrant OpenAPI description (v1.19),
 * so the loopback server neither accepts what real Qdrant would refuse nor answers what real
 * Qdrant never would.
 */

/** Where the description lives: `<repo root>/../shared/specs/` (the repo root is three folders above this file's folder). */
export const DEFAULT_QDRANT_OPENAPI_PATH = fileURLToPath(new URL('../../../../shared/specs/qdrant-openapi-v1.19.json', import.meta.url));

/** The `$id` under which the spec's component schemas are registered with ajv. */
const SPEC_ID = 'https://aidoc.invalid/qdrant-openapi-v1.19.json';

/** The HTTP methods an OpenAPI path item may hold. */
type HttpMethod = 'get' | 'put' | 'post' | 'patch' | 'delete';

/** One schema violation, in ajv's words. */
export interface QdrantSchemaError {
  /** JSON pointer into the checked value (`/filter/must/0/match`). */
  readonly path: string;
  readonly message: string;
}

/** The outcome of checking one value. */
export type QdrantSchemaCheck = { readonly valid: true } | { readonly valid: false; readonly errors: readonly QdrantSchemaError[] };

/** Validators of one operation of the description (`query_points`, ...). */
export interface QdrantOperationValidator {
  readonly operationId: string;
  /** The query parameters the operation declares, with their schemas' types. */
  readonly queryParameters: ReadonlyMap<string, { readonly type: string | undefined }>;
  /** Checks a JSON request body; `undefined` passes when the body is optional. */
  checkRequestBody(body: unknown): QdrantSchemaCheck;
  /** Checks the query parameters after coercion to their declared types. */
  checkQuery(query: Readonly<Record<string, unknown>>): QdrantSchemaCheck;
  /** Checks a response body against the schema the description gives for `status` (`200`, else `4XX` / `default`). */
  checkResponse(status: number, body: unknown): QdrantSchemaCheck;
}

/** All operations of the description, by `METHOD path-template` (`POST /collections/{collection_name}/points/query`). */
export interface QdrantOpenApiValidator {
  readonly specPath: string;
  /** The validator of an operation, compiled on first use; undefined when the description has no such operation. */
  operation(method: string, pathTemplate: string): QdrantOperationValidator | undefined;
  /** Checks a value against one of the description's component schemas (`ErrorResponse`, ...). */
  checkComponent(name: string, value: unknown): QdrantSchemaCheck;
}

const cache = new Map<string, Promise<QdrantOpenApiValidator>>();

/**
 * Loads the description once per path (later calls share the compiled validators). Rejects with a
 * message naming the path when the file is missing or is not an OpenAPI description.
 */
export function loadQdrantOpenApiValidator(specPath: string = DEFAULT_QDRANT_OPENAPI_PATH): Promise<QdrantOpenApiValidator> {
  let loaded = cache.get(specPath);
  if (loaded === undefined) {
    loaded = createValidator(specPath);
    cache.set(specPath, loaded);
    loaded.catch(() => cache.delete(specPath));
  }
  return loaded;
}

async function createValidator(specPath: string): Promise<QdrantOpenApiValidator> {
  let text: string;
  try {
    text = await readFile(specPath, 'utf8');
  } catch (error) {
    throw new Error(
      `The Qdrant loopback server needs the official OpenAPI description at ${specPath} ` +
        '(<repo root>/../shared/specs/qdrant-openapi-v1.19.json); it could not be read. Pass `specPath` to point at another copy.',
      { cause: error },
    );
  }
  const spec: unknown = JSON.parse(text);
  if (!isRecord(spec) || !isRecord(spec.paths) || !isRecord(spec.components) || !isRecord(spec.components.schemas)) {
    throw new Error(`${specPath} is not an OpenAPI description (no \`paths\` or \`components.schemas\`)`);
  }
  const paths = spec.paths;
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormatsModule.default(ajv);
  addOpenApiFormats(ajv);
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: toJsonSchema(spec.components.schemas) } });

  const compiled = new Map<string, QdrantOperationValidator | undefined>();
  const components = new Map<string, ValidateFunction>();
  const checkComponent = (name: string, value: unknown): QdrantSchemaCheck => {
    let validate = components.get(name);
    if (validate === undefined) {
      validate = compile(ajv, { $ref: `#/components/schemas/${name}` });
      components.set(name, validate);
    }
    return run(validate, value);
  };
  return {
    specPath,
    operation(method, pathTemplate) {
      const key = `${method.toUpperCase()} ${pathTemplate}`;
      if (!compiled.has(key)) compiled.set(key, compileOperation(ajv, paths, method.toLowerCase() as HttpMethod, pathTemplate, checkComponent));
      return compiled.get(key);
    },
    checkComponent,
  };
}

function compileOperation(
  ajv: Ajv,
  paths: Record<string, unknown>,
  method: HttpMethod,
  pathTemplate: string,
  checkComponent: (name: string, value: unknown) => QdrantSchemaCheck,
): QdrantOperationValidator | undefined {
  const pathItem = paths[pathTemplate];
  const operation = isRecord(pathItem) ? pathItem[method] : undefined;
  if (!isRecord(operation)) return undefined;
  const operationId = typeof operation.operationId === 'string' ? operation.operationId : `${method} ${pathTemplate}`;

  const requestBody = isRecord(operation.requestBody) ? operation.requestBody : undefined;
  const requestSchema = jsonContentSchema(requestBody);
  const requestRequired = requestBody?.required === true;
  const checkRequest = requestSchema === undefined ? undefined : compile(ajv, requestSchema);

  const queryProperties: Record<string, unknown> = {};
  const queryRequired: string[] = [];
  const queryParameters = new Map<string, { type: string | undefined }>();
  for (const parameter of Array.isArray(operation.parameters) ? operation.parameters : []) {
    if (!isRecord(parameter) || parameter.in !== 'query' || typeof parameter.name !== 'string') continue;
    const schema = isRecord(parameter.schema) ? parameter.schema : {};
    queryProperties[parameter.name] = schema;
    queryParameters.set(parameter.name, { type: typeof schema.type === 'string' ? schema.type : undefined });
    if (parameter.required === true) queryRequired.push(parameter.name);
  }
  const checkQueryFunction = compile(ajv, { type: 'object', properties: queryProperties, required: queryRequired });

  const responses = isRecord(operation.responses) ? operation.responses : {};
  const responseCheckers = new Map<string, ValidateFunction | undefined>();
  const responseChecker = (status: number): ValidateFunction | undefined => {
    const key = String(status) in responses ? String(status) : status >= 400 && status < 500 && '4XX' in responses ? '4XX' : 'default';
    if (!responseCheckers.has(key)) {
      const schema = jsonContentSchema(isRecord(responses[key]) ? responses[key] : undefined);
      responseCheckers.set(key, schema === undefined ? undefined : compile(ajv, schema));
    }
    return responseCheckers.get(key);
  };

  return {
    operationId,
    queryParameters,
    checkRequestBody(body) {
      if (body === undefined) {
        return requestRequired ? { valid: false, errors: [{ path: '', message: 'the request body is required' }] } : { valid: true };
      }
      if (checkRequest === undefined) return { valid: false, errors: [{ path: '', message: `${operationId} takes no request body` }] };
      return run(checkRequest, body);
    },
    checkQuery(query) {
      return run(checkQueryFunction, query);
    },
    checkResponse(status, body) {
      const checker = responseChecker(status);
      if (checker !== undefined) return run(checker, body);
      // Qdrant answers every error with `ErrorResponse`, documented or not (`GET /` documents a bare 4XX).
      if (status >= 400) return checkComponent('ErrorResponse', body);
      return { valid: false, errors: [{ path: '', message: `${operationId} documents no ${status} response with a JSON body` }] };
    },
  };
}

function run(validate: ValidateFunction, value: unknown): QdrantSchemaCheck {
  if (validate(value)) return { valid: true };
  return { valid: false, errors: (validate.errors ?? []).map(describeError) };
}

function describeError(error: ErrorObject): QdrantSchemaError {
  const params = Object.keys(error.params).length === 0 ? '' : ` ${JSON.stringify(error.params)}`;
  return { path: error.instancePath, message: `${error.message ?? error.keyword}${params}` };
}

function compile(ajv: Ajv, schema: unknown): ValidateFunction {
  return ajv.compile(rebaseReferences(toJsonSchema(schema)) as object);
}

function jsonContentSchema(holder: Record<string, unknown> | undefined): unknown {
  const content = holder?.content;
  if (!isRecord(content)) return undefined;
  const json = content['application/json'];
  return isRecord(json) ? json.schema : undefined;
}

/**
 * OpenAPI 3.0 schemas are JSON Schema with a twist ajv rejects: `{ "nullable": true }` on its own
 * (263 times in this description, as the "or null" branch of an `anyOf`) means "null".
 */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!isRecord(schema)) return schema;
  const keys = Object.keys(schema).filter((key) => key !== 'description' && key !== 'example');
  if (schema.nullable === true && keys.length === 1) return { type: 'null' };
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, toJsonSchema(value)]));
}

/** Points an operation's local `#/components/...` references at the registered description. */
function rebaseReferences(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebaseReferences);
  if (!isRecord(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${SPEC_ID}${value}` : rebaseReferences(value)]),
  );
}

/** Qdrant's numeric formats (Rust types), checked for what they promise. */
function addOpenApiFormats(ajv: Ajv): void {
  const unsigned = (maximum: number) => (value: number) => Number.isInteger(value) && value >= 0 && value <= maximum;
  ajv.addFormat('float', { type: 'number', validate: (value: number) => Number.isFinite(value) });
  ajv.addFormat('double', { type: 'number', validate: (value: number) => Number.isFinite(value) });
  ajv.addFormat('uint8', { type: 'number', validate: unsigned(255) });
  ajv.addFormat('uint32', { type: 'number', validate: unsigned(4_294_967_295) });
  ajv.addFormat('uint', { type: 'number', validate: unsigned(Number.MAX_SAFE_INTEGER) });
  ajv.addFormat('uint64', { type: 'number', validate: unsigned(Number.MAX_SAFE_INTEGER) });
  ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isSafeInteger(value) });
  // RFC 3339 with optional parts, as Qdrant's datetime payload parser accepts; only checked as a string.
  ajv.addFormat('partial-date-time', { type: 'string', validate: () => true });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
