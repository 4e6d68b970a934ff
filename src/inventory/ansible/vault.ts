/**
 * Ansible Vault: a value tagged `!vault`, a string that begins `$ANSIBLE_VAULT;`, or a whole file encrypted. keel
 * does not decrypt them; it refuses them where they are written, and says what to write instead.
 */
import { isPair, isScalar, type Scalar, type Tags, visit } from 'yaml';
import { InventoryError } from '../errors.js';
import { parseYaml, type YamlSource } from '../yamlSource.js';

const VAULT_HEADER = '$ANSIBLE_VAULT;';
const INSTEAD =
  'keel does not decrypt Ansible Vault: put the value in a file or an environment variable and write {secret: {file: PATH}} or {secret: {env: NAME}} in its place';

export function refuseVaultText(value: string, at: string, name: string): void {
  if (value.trimStart().startsWith(VAULT_HEADER)) throw new InventoryError(`${at}: ${name}: is encrypted with Ansible Vault; ${INSTEAD}`);
}

/** Ansible's own tags: `!unsafe` marks a string not to be templated (keel templates nothing); `!vault` is refused. */
const ANSIBLE_TAGS: Tags = [
  { tag: '!unsafe', resolve: (text: string) => text },
  { tag: '!vault', resolve: (text: string) => text },
];

/** A YAML file of Ansible's: read as YAML 1.1, as Ansible's loader reads it, with every vault value refused. */
export function parseAnsibleYaml(file: string, text: string): { data: unknown; source: YamlSource } {
  if (text.trimStart().startsWith(VAULT_HEADER))
    throw new InventoryError(`${file}:1: the whole file is encrypted with Ansible Vault; ${INSTEAD}`);
  const parsed = parseYaml(file, text, { version: '1.1', customTags: ANSIBLE_TAGS });
  visit(parsed.source.document, {
    Scalar(_key, node, path) {
      if (node.tag !== '!vault' && !(typeof node.value === 'string' && node.value.trimStart().startsWith(VAULT_HEADER))) return;
      const pair = [...path].reverse().find(isPair);
      const name = pair && isScalar(pair.key) ? String((pair.key as Scalar).value) : 'a value';
      refuseVaultText(VAULT_HEADER, parsed.source.at(node.range?.[0] ?? 0), name);
    },
  });
  return parsed;
}
