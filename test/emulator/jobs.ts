/**
 * Async jobs (7. 查询异步任务结果). The submit call's RequestId is the JobId. A job spends
 * `queuingMs` in QUEUING, then runs the Action's work while PROCESSING for at least
 * `processingMs`, then ends PROCESS_SUCCESS with `Result` = JSON string of the Data the
 * synchronous call would have returned, or PROCESS_FAILED with ErrorCode / ErrorMessage.
 */
import { AliError } from './errors.js';

export type JobStatus = 'QUEUING' | 'PROCESSING' | 'PROCESS_SUCCESS' | 'PROCESS_FAILED';

export interface JobTimings { queuingMs: number; processingMs: number }

interface Job {
  id: string;
  action: string;
  status: JobStatus;
  result?: string;
  errorCode?: string;
  errorMessage?: string;
  submittedAt: number;
  completedAt?: number;
}

export class JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pendingFailures: Array<{ code: string; message: string }> = [];
  private closed = false;

  constructor(private readonly timings: JobTimings) {}

  /** The next submitted job ends PROCESS_FAILED with this code and message. */
  failNext(code: string, message: string): void {
    this.pendingFailures.push({ code, message });
  }

  submit(id: string, action: string, work: () => Promise<Record<string, unknown>>): void {
    const job: Job = { id, action, status: 'QUEUING', submittedAt: Date.now() };
    this.jobs.set(id, job);
    const forcedFailure = this.pendingFailures.shift();
    this.after(this.timings.queuingMs, () => {
      job.status = 'PROCESSING';
      const minimum = new Promise<void>((resolve) => this.after(this.timings.processingMs, resolve));
      const outcome: Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; code: string; message: string }> = forcedFailure
        ? Promise.resolve({ ok: false as const, ...forcedFailure })
        : work().then(
            (data) => ({ ok: true as const, data }),
            (err: unknown) =>
              err instanceof AliError
                ? { ok: false as const, code: err.code, message: err.message }
                : { ok: false as const, code: 'InternalError.Algo', message: String((err as Error)?.message ?? err) },
          );
      void Promise.all([outcome, minimum]).then(([o]) => {
        if (this.closed) return;
        if (o.ok) {
          job.result = JSON.stringify(o.data);
          job.status = 'PROCESS_SUCCESS';
        } else {
          job.errorCode = o.code;
          job.errorMessage = o.message;
          job.status = 'PROCESS_FAILED';
        }
        job.completedAt = Date.now();
      });
    });
  }

  /** The GetAsyncJobResult `Data` for a job, or undefined when there is no such job. */
  view(id: string): Record<string, unknown> | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    const data: Record<string, unknown> = { JobId: job.id, Status: job.status };
    if (job.status === 'PROCESS_SUCCESS') data.Result = job.result;
    if (job.status === 'PROCESS_FAILED') {
      data.ErrorCode = job.errorCode;
      data.ErrorMessage = job.errorMessage;
    }
    return data;
  }

  completedAt(id: string): number | undefined {
    return this.jobs.get(id)?.completedAt;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private after(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, Math.max(0, ms));
    this.timers.add(t);
  }
}
