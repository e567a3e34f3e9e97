#!/bin/sh
# Creates the secrets docker-compose.yml reads: a PostgreSQL password, the database URL built
# from it, and the KEK (32 random bytes). Usage: scripts/make-secrets.sh DIR (e.g. secrets).
# The folder is mode 0700 (only its owner reaches the files); the files are 0444 because the
# containers read them as their own users (postgres, uid 1000) through bind mounts.
# Back the KEK up where the database backups are NOT: either alone is useless to a thief.
set -eu
dir=${1:?usage: make-secrets.sh DIR}
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
for f in pg_password database_url modelsign_kek; do
  if [ -e "$dir/$f" ]; then echo "$dir/$f exists; not overwriting (delete it first to replace it)" >&2; exit 1; fi
done
password=$(openssl rand -hex 24)
printf '%s\n' "$password" > "$dir/pg_password"
printf 'postgresql://modelsign:%s@postgres:5432/modelsign\n' "$password" > "$dir/database_url"
openssl rand -base64 32 > "$dir/modelsign_kek"
chmod 0444 "$dir/pg_password" "$dir/database_url" "$dir/modelsign_kek"
echo "wrote $dir/pg_password, $dir/database_url, $dir/modelsign_kek"
