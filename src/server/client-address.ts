// The unit a per-address limit counts: an IPv4 address, or an IPv6 /64. One subscriber, host or
// cloud instance is routinely given a whole /64, so counting single IPv6 addresses would give an
// abuser 2^64 fresh budgets. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as the IPv4 address.
import { isIPv4, isIPv6 } from 'node:net';

export function addressBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const zoneless = ip.split('%', 1)[0]!.toLowerCase();
  const [head, tail = ''] = zoneless.split('::', 2) as [string, string?];
  const left = head === '' ? [] : head.split(':');
  const right = zoneless.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  // An embedded IPv4 tail (::1.2.3.4) is two groups; it only ever sits in the low 64 bits.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = zoneless.includes('::') ? [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** MODELSIGN_TRUST_PROXY as Fastify's trustProxy: a hop count becomes a function of the hop. */
export function fastifyTrustProxy(value: boolean | number | string[] | undefined): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address: string, hop: number) => hop < value : (value ?? false);
}
