// `modelsign admin audit-verify`: checks the audit trail's hash chain and names the first event
// where it breaks. Exit 0 intact, 9 broken (a rewritten history, as for a log fork).
import { verifyAuditChain } from '../services/audit-chain.ts';
import { print, withAdminRuntime } from './admin-context.ts';
import { parse } from './args.ts';
import { EXIT } from './exit-codes.ts';
import { output } from './output.ts';

const USAGE = `Usage: modelsign admin audit-verify [--json]

Seals the events recorded so far, then recomputes the whole chain. Exit codes: 0 intact;
9 an event was changed, removed or moved (the first bad one is named); 5 the database could not
be read; 2 usage or configuration.`;

export async function adminAuditVerify(args: string[]): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean', default: false } }, USAGE);
  return withAdminRuntime('audit-verify', async ({ db, services }) => {
    // Sealing only appends to the chain; a tampered chain is detected all the same.
    await services.audit.seal().catch(() => 0);
    const report = await verifyAuditChain(db);
    const text = report.ok
      ? `audit chain intact: ${report.checked} events, head ${report.head.hash}${report.unsealed ? ` (${report.unsealed} not sealed yet)` : ''}`
      : `audit chain broken at event ${report.firstBad!.seq}${report.firstBad!.id ? ` (id ${report.firstBad!.id})` : ''}: ${report.firstBad!.problem}`;
    if (!report.ok && !values.json) {
      output().err(`modelsign admin audit-verify: ${text}\n`);
      return EXIT.history;
    }
    print(values.json!, report, text);
    return report.ok ? EXIT.ok : EXIT.history;
  });
}
