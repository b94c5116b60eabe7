/**
 * `--firmware FILE` for a set of bench boards: reads and checks the image once per board (chip, size
 * against the board's flash) before the bench is opened, and keeps only the boards the image is for.
 */
import type { BenchBoard } from '../../hil-config/load-bench.ts';
import { HilError } from '../errors.ts';
import { detectImageChip, planImageBytes, readFirmwareFile, type ImagePlan } from '../flash/image-plan.ts';

export interface FirmwareForBoards {
  plan: ImagePlan;
  /** The boards the image will be flashed onto. */
  boards: BenchBoard[];
  /** Boards of the bench left out because the image is for another chip. */
  leftOut: BenchBoard[];
}

/**
 * @param explicit true when the user named the boards (`--board`): a board of another chip is then an
 *   error rather than left out.
 */
export async function planFirmwareForBoards(file: string, boards: readonly BenchBoard[], explicit: boolean): Promise<FirmwareForBoards> {
  const first = boards[0];
  if (first === undefined) throw new HilError('NOT_ENOUGH_BOARDS', 'no boards to flash');
  const bytes = await readFirmwareFile(file);
  const chip = detectImageChip(bytes) ?? first.chip;
  const matching = boards.filter((board) => board.chip === chip);
  const leftOut = boards.filter((board) => board.chip !== chip);
  if (matching.length === 0 || (explicit && leftOut.length > 0)) {
    const names = (explicit ? leftOut : boards).map((b) => `${b.id} (${b.chip})`).join(', ');
    throw new HilError('FLASH_CHIP_MISMATCH', `${file} is an image for ${chip}, but ${names} ${explicit ? 'is' : 'are'} not; ` +
      'nothing was flashed', { file });
  }
  let plan: ImagePlan | undefined;
  for (const board of matching) {
    plan = planImageBytes(bytes, file, { chip, flashSizeBytes: board.flash, boardId: board.id });
  }
  if (plan === undefined) throw new HilError('FIRMWARE_INVALID', `${file}: no plan`);
  return { plan, boards: matching, leftOut };
}
