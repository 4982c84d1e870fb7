/**
 * Prometheus metrics of one ledger process, on a registry of its own (so two
 * apps in one process, as in tests, never share counters). prom-client is the
 * maintained Node client and writes the exposition format for us.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Seconds: from 1 ms to 10 s, where sequencing and checkpoint latency live. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

export class Metrics {
  readonly registry = new Registry();
  readonly appends = new Counter({
    name: "ledger_appends_total",
    help: "Append requests by outcome: logged (new entry), duplicate (answered with the original index) or refused (by a rule, after pooling)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({ name: "ledger_batch_size", help: "Records per sequenced batch", buckets: BATCH_BUCKETS, registers: [this.registry] });
  readonly sequencingSeconds = new Histogram({
    name: "ledger_sequencing_seconds",
    help: "Duration of one sequencing transaction (rules, entries, nodes, signed checkpoint, COMMIT)",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly checkpointLatencySeconds = new Histogram({
    name: "ledger_checkpoint_latency_seconds",
    help: "From an append entering the pool to the commit of the signed checkpoint that covers it",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly batchFailures = new Counter({ name: "ledger_batch_failures_total", help: "Batches rolled back because the store failed", registers: [this.registry] });
  readonly treeSize = new Gauge({ name: "ledger_tree_size", help: "Size of the latest signed checkpoint", registers: [this.registry] });
  readonly pending = new Gauge({ name: "ledger_pending_appends", help: "Appends waiting in the pool", registers: [this.registry] });
  readonly signing = new Gauge({ name: "ledger_signing", help: "1 while the log signs checkpoints, 0 after an invariant failed", registers: [this.registry] });
  readonly witnessCosignedSize = new Gauge({
    name: "ledger_witness_cosigned_tree_size",
    help: "The tree size whose cosignature by this witness the log holds (-1: none yet)",
    labelNames: ["witness"] as const,
    registers: [this.registry],
  });
  readonly witnessLastSuccess = new Gauge({
    name: "ledger_witness_last_success_timestamp_seconds",
    help: "Unix time of the witness's last verified cosignature",
    labelNames: ["witness"] as const,
    registers: [this.registry],
  });
  readonly witnessFailures = new Counter({
    name: "ledger_witness_failures_total",
    help: "Submissions to a witness that failed (unreachable, refused, or a cosignature that did not verify)",
    labelNames: ["witness"] as const,
    registers: [this.registry],
  });
  readonly approvalRequests = new Gauge({
    name: "ledger_approval_requests",
    help: "Approval requests by state (pending, approved, rejected, expired), read from the service's tables at each scrape",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });
  readonly approvalDecisionSeconds = new Histogram({
    name: "ledger_approval_decision_seconds",
    help: "From an approval request's opening to its decision (approved, rejected or expired)",
    labelNames: ["state"] as const,
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 72 * 3600],
    registers: [this.registry],
  });
  readonly pushDeliveries = new Counter({
    name: "ledger_push_deliveries_total",
    help: "Web Push deliveries by outcome: delivered, retried (429/5xx/network, tried again), gone (404/410: subscription dropped), failed",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: "ledger_webhook_deliveries_total",
    help: "Webhook deliveries to registries by outcome: delivered, retried, failed",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: "ledger_http_requests_total",
    help: "HTTP requests by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "ledger_errors_total",
    help: "Error responses by error code (see docs/api.md)",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: "ledger_rate_limited_total",
    help: "Appends refused by a rate limit: scope writer (one token's limit) or global",
    labelNames: ["scope"] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    // Process metrics (RSS, heap, event-loop lag) are global to the process: only the
    // serving process collects them, never a test that builds several apps.
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: "ledger_" });
    this.signing.set(1);
  }

  /** The text exposition format. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
