// openapi.yaml is the contract and the source of every route schema: routes ask for their
// operation's schemas by operationId, so what is documented is what is validated. References
// are inlined because our schemas are not recursive and both Ajv and fast-json-stringify then
// work on plain objects.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface OpenApiOperation {
  method: string;
  path: string;
  operationId: string;
  operation: JsonObject;
}

export interface OpenApiDocument {
  text: string;
  doc: JsonObject;
  operations: OpenApiOperation[];
  /** A JSON Schema with every $ref inlined. */
  resolve(schema: Json): Json;
  /** Schemas for a Fastify route; throws for an unknown operationId. */
  routeSchema(operationId: string): RouteSchema;
}

export interface RouteSchema {
  operationId: string;
  params?: JsonObject;
  querystring?: JsonObject;
  body?: JsonObject;
  response?: Record<string, JsonObject>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function lookup(doc: JsonObject, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
  let node: Json = doc;
  for (const part of ref.slice(2).split('/')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !(part in node)) throw new Error(`unresolved reference ${ref}`);
    node = node[part]!;
  }
  return node;
}

// Parsing the YAML is most of the cost of loading the contract (about 90 ms): a process that
// builds several apps (the tests, dozens to a process) parses each text once and gives every app
// its own copy, so no app sees what another's schema compilers did to theirs.
const parsed = new Map<string, { text: string; doc: JsonObject }>();

export function loadOpenApi(file = OPENAPI_PATH): OpenApiDocument {
  const text = readFileSync(file, 'utf8');
  let cached = parsed.get(file);
  if (cached?.text !== text) {
    cached = { text, doc: parse(text) as JsonObject };
    parsed.set(file, cached);
  }
  const doc = structuredClone(cached.doc);

  const resolve = (node: Json, seen: string[] = []): Json => {
    if (Array.isArray(node)) return node.map((n) => resolve(n, seen));
    if (node === null || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string') {
      if (seen.includes(node.$ref)) throw new Error(`recursive reference ${node.$ref}`);
      return resolve(lookup(doc, node.$ref), [...seen, node.$ref]);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, seen)]));
  };

  const operations: OpenApiOperation[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as JsonObject)) {
    for (const [method, op] of Object.entries(item as JsonObject)) {
      if (!METHODS.includes(method)) continue;
      const operation = resolve(op) as JsonObject;
      operations.push({ method: method.toUpperCase(), path, operationId: String(operation.operationId), operation });
    }
  }

  const routeSchema = (operationId: string): RouteSchema => {
    const found = operations.find((o) => o.operationId === operationId);
    if (!found) throw new Error(`openapi.yaml has no operation ${operationId}`);
    const op = found.operation;
    const schema: RouteSchema = { operationId };
    const params = (op.parameters ?? []) as JsonObject[];
    for (const [location, key] of [['path', 'params'], ['query', 'querystring']] as const) {
      const list = params.filter((p) => p.in === location);
      if (list.length === 0) continue;
      schema[key] = {
        type: 'object',
        properties: Object.fromEntries(list.map((p) => [String(p.name), p.schema ?? {}])),
        required: list.filter((p) => p.required === true).map((p) => String(p.name)),
        additionalProperties: false,
      };
    }
    const body = ((op.requestBody as JsonObject | undefined)?.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined;
    if (body?.schema) schema.body = body.schema as JsonObject;
    const response: Record<string, JsonObject> = {};
    for (const [status, res] of Object.entries((op.responses ?? {}) as JsonObject)) {
      const json = ((res as JsonObject).content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined;
      // Only JSON success bodies go through the serializer; errors are written by the error handler.
      if (status.startsWith('2') && json?.schema) response[status] = json.schema as JsonObject;
    }
    if (Object.keys(response).length > 0) schema.response = response;
    return schema;
  };

  return { text, doc, operations, resolve: (s) => resolve(s), routeSchema };
}
