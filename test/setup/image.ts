import { ensureAptRepo } from '../../lab/aptRepo.js';
import { ensureImage } from '../../lab/image.js';

/** Builds the lab image and apt repository once per machine, before any test can time out waiting for them. */
export default async function setup(): Promise<void> {
  await ensureImage(undefined, (line) => console.log(line));
  await ensureAptRepo();
}
