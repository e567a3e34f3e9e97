// A Python 3 with pyca/cryptography: Debian's /usr/bin/python3 (python3-cryptography, which CI
// installs) first, then whatever `python3` is on PATH.
import { spawnSync } from 'node:child_process';

export function pythonWithCryptography(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import cryptography'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}
