/** A mistake in an inventory or the files beside it: the message names file:line:col, or the host and setting. */
export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InventoryError';
  }
}
