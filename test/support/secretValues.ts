/** The secrets the secrets tests use, and the forms they would take if they leaked (base64 inside a write). */
export const BECOME_PASSWORD = `sudo-Pa55 '"$(id)`;
export const DB_PASSWORD = 'db-S3cret;`rm -rf /`';
export const API_TOKEN = 'tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

/** Each secret as it is, base64-encoded, and a prefix of that. */
export function secretForms(secrets: readonly string[]): string[] {
  return secrets.flatMap((secret) => [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64').slice(0, 16)]);
}
