import { loadTextCorpus, CharTokenizer } from '@axon/datasets';
const t0 = performance.now();
const c = await loadTextCorpus('sotu');
const tok = CharTokenizer.fromText(c.text);
const ids = tok.encode(c.text);
console.log(c.text.length, tok.vocabSize, ids.length, ids.constructor.name, (performance.now()-t0).toFixed(0));
