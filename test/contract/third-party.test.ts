/**
 * The backend kit as a backend author uses it: a backend of their own,
 * written against the public `sheppy/backend` types only, checked with the
 * same contract cases the built-in backends pass. Here the author's backend
 * is a thin class that keeps everything in a memory backend it holds —
 * imported only through the public subpath, like any other dependency.
 */

import type { TaskData } from "sheppy";
import type {
  AddMode,
  AddOptions,
  Backend,
  BackendTestOptions,
  ClaimedTask,
  ClaimRef,
  CronData,
  DedupeEntry,
  EventReadRequest,
  ListTasksRequest,
  PageRequest,
  RateLimitRequest,
  Settlement,
  SettleResult,
  WorkflowAddEvents,
  WorkflowCancellation,
  WorkflowData,
  WorkflowRetry,
  WorkflowStepEnd,
} from "sheppy/backend";
import { runBackendContract } from "sheppy/backend/contract";
import { MemoryBackend } from "sheppy/backends/memory";

/** Someone else's backend: every role of the contract, each call handed to the store it wraps. */
class WrappedBackend implements Backend {
  readonly #store: MemoryBackend;

  constructor(options: BackendTestOptions) {
    this.#store = new MemoryBackend(options);
  }

  get capabilities() {
    return this.#store.capabilities;
  }
  get isConnected() {
    return this.#store.isConnected;
  }
  get retention() {
    return this.#store.retention;
  }
  get inline() {
    return this.#store.inline;
  }
  connect() {
    return this.#store.connect();
  }
  disconnect() {
    return this.#store.disconnect();
  }
  add(queue: string, records: readonly TaskData[], mode?: AddMode, options?: AddOptions) {
    return this.#store.add(queue, records, mode, options);
  }
  addDeduplicated(queue: string, entries: readonly DedupeEntry[], now: number) {
    return this.#store.addDeduplicated(queue, entries, now);
  }
  settle(queue: string, settlements: readonly Settlement[], now: number): Promise<SettleResult[]> {
    return this.#store.settle(queue, settlements, now);
  }
  cancel(
    queue: string,
    id: string,
    cancellation: {
      at: number;
      expiresAt: number | null;
      workflowStep?: WorkflowStepEnd;
      event?: string;
    },
  ) {
    return this.#store.cancel(queue, id, cancellation);
  }
  addWorkflow(
    queue: string,
    record: WorkflowData,
    steps: readonly TaskData[],
    expiresAt: number | null,
    events?: WorkflowAddEvents,
  ) {
    return this.#store.addWorkflow(queue, record, steps, expiresAt, events);
  }
  getWorkflows(queue: string, ids: readonly string[]) {
    return this.#store.getWorkflows(queue, ids);
  }
  runningWorkflows(queue: string, ids: readonly string[]) {
    return this.#store.runningWorkflows(queue, ids);
  }
  listWorkflows(queue: string, page?: PageRequest & { running?: boolean }) {
    return this.#store.listWorkflows(queue, page);
  }
  cancelWorkflow(queue: string, id: string, cancellation: WorkflowCancellation) {
    return this.#store.cancelWorkflow(queue, id, cancellation);
  }
  retryWorkflow(queue: string, id: string, retry: WorkflowRetry) {
    return this.#store.retryWorkflow(queue, id, retry);
  }
  deleteWorkflow(queue: string, id: string) {
    return this.#store.deleteWorkflow(queue, id);
  }
  reschedule(queue: string, read: TaskData, next: TaskData) {
    return this.#store.reschedule(queue, read, next);
  }
  deleteTask(queue: string, id: string) {
    return this.#store.deleteTask(queue, id);
  }
  clear(queue: string) {
    return this.#store.clear(queue);
  }
  pruneExpired(queue: string, now: number) {
    return this.#store.pruneExpired(queue, now);
  }
  claim(
    queue: string,
    limit: number,
    waitMs?: number,
    signal?: AbortSignal,
    leaseMs?: number,
  ): Promise<ClaimedTask[]> {
    return this.#store.claim(queue, limit, waitMs, signal, leaseMs);
  }
  promoteDue(queue: string, now: number) {
    return this.#store.promoteDue(queue, now);
  }
  renew(queue: string, claims: readonly ClaimRef[]) {
    return this.#store.renew(queue, claims);
  }
  reclaimExpired(queue: string, window: { leaseMs: number; confirmMs: number }) {
    return this.#store.reclaimExpired(queue, window);
  }
  getTasks(queue: string, ids: readonly string[]) {
    return this.#store.getTasks(queue, ids);
  }
  getPending(queue: string, count: number) {
    return this.#store.getPending(queue, count);
  }
  getScheduled(queue: string, page?: PageRequest) {
    return this.#store.getScheduled(queue, page);
  }
  getAllTasks(queue: string, page?: PageRequest) {
    return this.#store.getAllTasks(queue, page);
  }
  listTasks(queue: string, request?: ListTasksRequest) {
    return this.#store.listTasks(queue, request);
  }
  size(queue: string) {
    return this.#store.size(queue);
  }
  getStats(queue: string) {
    return this.#store.getStats(queue);
  }
  listQueues() {
    return this.#store.listQueues();
  }
  watchFinished(queue: string, listener: (ids: readonly string[]) => void) {
    return this.#store.watchFinished(queue, listener);
  }
  addCron(queue: string, deterministicId: string, cron: CronData) {
    return this.#store.addCron(queue, deterministicId, cron);
  }
  deleteCron(queue: string, deterministicId: string) {
    return this.#store.deleteCron(queue, deterministicId);
  }
  getCrons(queue: string) {
    return this.#store.getCrons(queue);
  }
  get eventCap() {
    return this.#store.eventCap;
  }
  appendEvents(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ) {
    return this.#store.appendEvents(queue, bodies, holders);
  }
  readEvents(queue: string, request: EventReadRequest) {
    return this.#store.readEvents(queue, request);
  }
  lastEventId(queue: string) {
    return this.#store.lastEventId(queue);
  }
  acquireRateLimit(queue: string, request: RateLimitRequest) {
    return this.#store.acquireRateLimit(queue, request);
  }
  saveProgress(queue: string, claim: { id: string; fence: number }, record: TaskData) {
    return this.#store.saveProgress(queue, claim, record);
  }
  setPaused(queue: string, paused: boolean) {
    return this.#store.setPaused(queue, paused);
  }
  isPaused(queue: string) {
    return this.#store.isPaused(queue);
  }
  setConcurrencyLimit(queue: string, limit: number | null) {
    return this.#store.setConcurrencyLimit(queue, limit);
  }
  getConcurrencyLimit(queue: string) {
    return this.#store.getConcurrencyLimit(queue);
  }
  listPaused() {
    return this.#store.listPaused();
  }
  listCronQueues() {
    return this.#store.listCronQueues();
  }
}

runBackendContract("third-party (wrapped memory)", (options) => new WrappedBackend(options));
