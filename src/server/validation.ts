// Two Ajv instances: bodies are validated strictly (no type coercion, unknown members refused,
// every error reported), while path and query parameters, which are always strings on the
// wire, are coerced to the types the contract gives them.
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: true, strictTypes: false, useDefaults: true, removeAdditional: false, ...options });
  addFormats.default(ajv);
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  // verbose: each error carries the value it is about, so a refused name can be told apart by the
  // character that made it fail (server/plugins/errors.ts).
  const bodies = makeAjv({ coerceTypes: false, allErrors: true, verbose: true });
  const parameters = makeAjv({ coerceTypes: true, allErrors: false, verbose: true });
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return bodies.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
    return finiteOnly(parameters.compile(schema as object)) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}

// Ajv coerces "1e400" to Infinity and then lets it through `type: integer` and `maximum`
// (Infinity % 1 is NaN); no parameter of this API is infinite, so such values are refused here.
function finiteOnly(validate: ValidateFunction): ValidateFunction {
  const wrapped = ((data: unknown) => {
    if (!validate(data)) {
      wrapped.errors = validate.errors ?? null;
      return false;
    }
    const bad = data !== null && typeof data === 'object' ? Object.entries(data).find(([, v]) => typeof v === 'number' && !Number.isFinite(v)) : undefined;
    if (bad) {
      wrapped.errors = [{ instancePath: `/${bad[0]}`, schemaPath: '#/type', keyword: 'type', params: {}, message: 'must be a finite number' } satisfies ErrorObject];
      return false;
    }
    wrapped.errors = null;
    return true;
  }) as ValidateFunction;
  wrapped.schema = validate.schema;
  return wrapped;
}
