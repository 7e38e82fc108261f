// Dataset loading: parse JSONL / JSON / CSV files into prompt/answer rows with an account of every
// record not used, split them for evaluation, and format prompts for the model.

export { DatasetError } from './types';
export type { ColumnMapping, DatasetCounts, DatasetFormat, DatasetKind, DatasetIssue, DatasetRow, ParseOptions, ParsedDataset } from './types';
export { DatasetParser, formatFromFileName, parseDataset, parseDatasetBytes } from './parse';
export { blobChunks, parseDatasetStream } from './stream';
export { RECOGNISED_PAIRS, resolveMapping } from './collector';
export { formatPrompt, userMessage, type PromptSettings, type SpecialTokens } from './prompt';
export { splitDataset, type DatasetSplit } from './split';
export { bundleParquetFiles, isParquetBundleName, isParquetName, parseParquetData, parseParquetFiles } from './parquet';
