// The wire types: what openapi.yaml says requests and responses are, as TypeScript. openapi.ts is
// generated from the contract (`npm run gen:api`, test/api/wire-types.test.ts keeps it current);
// this file only names its parts. Route generics, presenters, the CLI and the console take their
// shapes from here, so a field renamed in openapi.yaml fails the type check wherever it is read.
import type { components, operations } from './openapi.ts';

/** Every schema of components.schemas, by name: `Wire['Publisher']`. */
export type Wire = components['schemas'];

export type OperationId = keyof operations;

type JsonOf<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Part<T, K extends string> = T extends { [P in K]?: infer V } ? ([V] extends [never] ? unknown : NonNullable<V>) : unknown;
type Filled<T, K extends string> = [K] extends [never] ? T : Omit<T, K> & { [P in K & keyof T]-?: NonNullable<T[P]> };

/** The JSON body an operation's `status` answer carries. */
export type ResponseOf<Op extends OperationId, Status extends keyof operations[Op]['responses']> = JsonOf<operations[Op]['responses'][Status]>;

/**
 * The Fastify route generic of an operation: its path parameters, query and JSON body as the
 * contract types them. The route's schema comes from the same operation id
 * (`app.openapi.routeSchema(id)`), so the validator and the handler's types cannot disagree.
 * `Defaulted` names the query parameters whose schema has a default: the validator fills them in,
 * so the handler sees them present.
 */
export interface RouteOf<Op extends OperationId, Defaulted extends string = never> {
  Params: Part<operations[Op]['parameters'], 'path'>;
  Querystring: Filled<Part<operations[Op]['parameters'], 'query'>, Defaulted>;
  Body: JsonOf<NonNullable<operations[Op]['requestBody']>>;
}

/**
 * The route generic of an operation whose one path parameter is the rest of the path, slashes
 * and all (getTile's `tilePath`): OpenAPI cannot say so, and Fastify names such a parameter `*`.
 */
export interface CatchAllRouteOf<Op extends OperationId> {
  Params: { '*': Part<operations[Op]['parameters'], 'path'>[keyof Part<operations[Op]['parameters'], 'path'>] };
}
