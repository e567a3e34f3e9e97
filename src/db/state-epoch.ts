// One counter that moves in every transaction changing what instances cache (revoked tokens,
// publishers, keys). Polling it costs one indexed read; seeing it move means "reload".
import type { Tx } from './client.ts';

export async function bumpStateEpoch(tx: Tx): Promise<void> {
  await tx.$executeRaw`UPDATE "state_epoch" SET "epoch" = "epoch" + 1 WHERE "id" = 1`;
}

/** The epoch, and whether this session refuses writes (a standby, or set read-only), in one read. */
export async function readState(session: Tx): Promise<{ epoch: bigint; readOnly: boolean }> {
  const rows = await session.$queryRaw<{ epoch: bigint; readOnly: boolean }[]>`SELECT "epoch", current_setting('transaction_read_only') = 'on' AS "readOnly" FROM "state_epoch" WHERE "id" = 1`;
  return { epoch: rows[0]?.epoch ?? 0n, readOnly: rows[0]?.readOnly ?? false };
}
