// One counter that moves in every transaction changing what instances cache (revoked tokens,
// publishers, keys). Polling it costs one indexed read; seeing it move means "reload".
import type { Tx } from './client.ts';

export async function bumpStateEpoch(tx: Tx): Promise<void> {
  await tx.$executeRaw`UPDATE "state_epoch" SET "epoch" = "epoch" + 1 WHERE "id" = 1`;
}

export async function readStateEpoch(session: Tx): Promise<bigint> {
  const rows = await session.$queryRaw<{ epoch: bigint }[]>`SELECT "epoch" FROM "state_epoch" WHERE "id" = 1`;
  return rows[0]?.epoch ?? 0n;
}
