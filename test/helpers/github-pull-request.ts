import nock from "nock";

/** The repository of @octokit/webhooks-examples' payloads, where the GitHub tests open changes. */
export const GH = "https://api.github.com";
export const REPO = "/repos/Codertocat/Hello-World";
export const PULL_URL = "https://github.com/Codertocat/Hello-World/pull/7";

/** The variables of a `createCommitOnBranch` mutation. */
export interface CommitOnBranch {
  input: { fileChanges: { additions: { path: string; contents: string }[] }; expectedHeadOid: string };
}

/**
 * GitHub's answers (nock) to SLO-Scout opening its first pull request for checkout on main (head a…a):
 * no open pull request yet, the branch created, one `createCommitOnBranch` (commit b…b), pull request #7
 * and its label. What was sent is kept for the test to check.
 */
export function nockNewPullRequest() {
  const sent = { commits: [] as CommitOnBranch[], pullBody: "" };
  nock(GH)
    .get(`${REPO}/pulls`)
    .query({ head: "Codertocat:slo-scout/checkout", state: "open", per_page: "1" })
    .reply(200, []);
  nock(GH)
    .get(`${REPO}/git/ref/heads%2Fmain`)
    .reply(200, { object: { sha: "a".repeat(40) } });
  nock(GH)
    .post(`${REPO}/git/refs`, { ref: "refs/heads/slo-scout/checkout", sha: "a".repeat(40) })
    .reply(201, {});
  nock(GH)
    .post("/graphql", (b: { query: string; variables: CommitOnBranch }) => {
      sent.commits.push(b.variables);
      return b.query.includes("createCommitOnBranch");
    })
    .reply(200, { data: { createCommitOnBranch: { commit: { oid: "b".repeat(40), url: "u" } } } });
  const pulled = nock(GH)
    .post(`${REPO}/pulls`, (b: { body: string; head: string; base: string }) => {
      sent.pullBody = b.body;
      return b.head === "slo-scout/checkout" && b.base === "main";
    })
    .reply(201, {
      number: 7,
      html_url: PULL_URL,
      title: "SLOs for checkout",
      body: "",
      state: "open",
      head: { ref: "slo-scout/checkout", sha: "b".repeat(40) },
      base: { ref: "main" },
    });
  const labelled = nock(GH)
    .post(`${REPO}/issues/7/labels`, { labels: ["slo-scout"] })
    .reply(200, []);
  return { sent, pulled, labelled };
}
