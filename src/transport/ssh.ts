import type { InventoryHost } from '../inventory/load.js';
import type { ConnectOptions } from './connect.js';
import { ConnectionError, type Transport } from './types.js';

export async function connectSsh(host: InventoryHost, _options: ConnectOptions): Promise<Transport> {
  throw new ConnectionError(host.name, 'the SSH transport is not built yet; use --connection local');
}
