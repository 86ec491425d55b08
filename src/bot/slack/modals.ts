import type { types } from "@slack/bolt";
import { pct } from "../../app/format.js";
import { cut, esc } from "./mrkdwn.js";

/**
 * The two modals a button opens: Simulate asks for a target, Reject for a reason. What the submission
 * needs later (the proposal and the message the buttons were on) rides in `private_metadata`, which
 * Slack returns untouched but which is still checked like any input when it comes back.
 */

export const MODALS = { simulate: "slo_simulate_modal", reject: "slo_reject_modal" } as const;

const INPUT = { target: "target", reason: "reason", value: "value" } as const;
const MAX_REASON = 500;

/** The message a modal was opened from, so its answer can go into that message's thread. */
export interface ModalOrigin {
  proposalId: string;
  channel: string;
  /** The message holding the buttons: its thread gets the answer. */
  threadTs?: string;
}

function metadata(origin: ModalOrigin): string {
  return JSON.stringify(origin);
}

/** The origin back from `private_metadata`; undefined when it is not one SLO-Scout wrote. */
export function originOf(privateMetadata: string | undefined): ModalOrigin | undefined {
  try {
    const o = JSON.parse(privateMetadata ?? "") as Partial<ModalOrigin>;
    if (typeof o.proposalId !== "string" || typeof o.channel !== "string") return undefined;
    return {
      proposalId: o.proposalId,
      channel: o.channel,
      ...(typeof o.threadTs === "string" ? { threadTs: o.threadTs } : {}),
    };
  } catch {
    return undefined;
  }
}

const plain = (text: string) => ({ type: "plain_text" as const, text });

export function simulateModal(
  origin: ModalOrigin,
  proposal: { name: string; recommended: number },
): types.ModalView {
  return {
    type: "modal",
    callback_id: MODALS.simulate,
    private_metadata: metadata(origin),
    title: plain("Simulate an SLO"),
    submit: plain("Simulate"),
    close: plain("Cancel"),
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: cut(
            `Replays *${esc(proposal.name)}* over its history at the target you choose: budget over time, breaches, pages and tickets. It recommends ${pct(proposal.recommended)}.`,
            3000,
          ),
        },
      },
      {
        type: "input",
        block_id: INPUT.target,
        label: plain("Target (percent)"),
        hint: plain("e.g. 99.9 — also 0.999 or 99.9%"),
        element: {
          type: "plain_text_input",
          action_id: INPUT.value,
          initial_value: String(proposal.recommended),
          max_length: 12,
        },
      },
    ],
  };
}

export function rejectModal(origin: ModalOrigin, proposal: { name: string }): types.ModalView {
  return {
    type: "modal",
    callback_id: MODALS.reject,
    private_metadata: metadata(origin),
    title: plain("Reject a proposal"),
    submit: plain("Reject"),
    close: plain("Cancel"),
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: cut(
            `Rejects *${esc(proposal.name)}*; it will not be proposed again until the next analysis.`,
            3000,
          ),
        },
      },
      {
        type: "input",
        block_id: INPUT.reason,
        optional: true,
        label: plain("Why?"),
        element: {
          type: "plain_text_input",
          action_id: INPUT.value,
          multiline: true,
          max_length: MAX_REASON,
        },
      },
    ],
  };
}

type StateValues = Record<string, Record<string, { value?: string | null }>>;

const typed = (values: StateValues, block: string) => values[block]?.[INPUT.value]?.value ?? undefined;

/** The target typed into the Simulate modal: a percentage, or the reason it is not one (shown under the input). */
export function targetOf(values: StateValues): { ok: true; percent: number } | { ok: false; error: string } {
  const raw = (typed(values, INPUT.target) ?? "").trim().replace(/%$/, "");
  const n = Number(raw);
  if (raw === "" || !Number.isFinite(n)) return { ok: false, error: "Type a target such as 99.9" };
  const percent = n > 0 && n < 1 ? n * 100 : n;
  if (!(percent > 0 && percent < 100))
    return { ok: false, error: "The target must lie between 0 and 100 percent" };
  return { ok: true, percent: Math.round(percent * 1e6) / 1e6 };
}

export function reasonOf(values: StateValues): string | undefined {
  const reason = typed(values, INPUT.reason)?.replace(/\s+/g, " ").trim();
  return reason ? reason.slice(0, MAX_REASON) : undefined;
}

/** The `errors` response a view submission gets when its input is not usable. */
export function targetError(error: string) {
  return { response_action: "errors" as const, errors: { [INPUT.target]: error } };
}
