// The whole store's state: the union of its slices.

import type { ConfigSlice } from './config';
import type { DatasetSlice } from './dataset';
import type { GpuSlice } from './gpu';
import type { ModelSlice } from './model';
import type { RunSlice } from './run';
import type { SelfTestSlice } from './selftest';
import type { TryItSlice } from './tryit';
import type { ViewSlice } from './view';
import type { ScanSlice } from './scan';
import type { ExperimentsSlice } from '../runs/slice';

export type AppState = GpuSlice & SelfTestSlice & ModelSlice & DatasetSlice & ConfigSlice & RunSlice & TryItSlice & ViewSlice & ScanSlice & ExperimentsSlice;
