// Identifiers the service issues (signature ids, token jtis, publisher ids) are lowercase UUIDs;
// checking the form first turns a bad id into a clean 404 instead of a database cast error.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
