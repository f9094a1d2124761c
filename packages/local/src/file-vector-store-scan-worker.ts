// Worker-thread entry of the file vector store's scans (loaded by core's `createOffloader`).
// The matrix arrives as a SharedArrayBuffer, so a job copies only the queries and masks.
import { scanVectors, type ScanHits, type ScanRequest } from './file-vector-store-scan.ts';

export default function scanVectorsOnWorker(request: ScanRequest): ScanHits[] {
  return scanVectors(request);
}
