// A grammY bot that walks a person through the same steps as Faros' screening on Telegram, with
// its sessions in Redis, so that farosload can measure both the same way. It is a benchmark
// peer, not a service: its texts are a few plain English lines, not Faros' content.
//
// Configured by the environment (see README.md); it prints "listening 127.0.0.1:PORT" first.
"use strict";

const http = require("node:http");
const { Bot, GrammyError, InlineKeyboard, session, webhookCallback } = require("grammy");
const { RedisAdapter } = require("@grammyjs/storage-redis");
const Redis = require("ioredis");

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (value === undefined) {
    console.error(`peer: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const config = {
  token: env("PEER_BOT_TOKEN"),
  secret: env("PEER_WEBHOOK_SECRET"),
  apiRoot: env("PEER_API_ROOT", "https://api.telegram.org"),
  redisURL: env("PEER_REDIS_URL", "redis://127.0.0.1:6379/14"),
  prefix: env("PEER_PREFIX", "peer:"),
  port: Number(env("PEER_PORT", "0")),
};
const webhookPath = "/webhook";
const sessionSeconds = 2 * 60 * 60; // as long as Faros keeps a quiet conversation

// The questions, by the id Faros gives them ("flow.node"), so that the callback data of a
// button is Faros' own: "welcome.language/en", "screening.minor/no".
const answers = [
  { id: "yes", label: "Yes" },
  { id: "no", label: "No" },
  { id: "unsure", label: "Not sure" },
  { id: "skip", label: "Skip" },
];
const questions = {
  "welcome.language": {
    text: "Which language?",
    choices: [
      { id: "el", label: "Ελληνικά" },
      { id: "en", label: "English" },
      { id: "fr", label: "Français" },
      { id: "sq", label: "Shqip" },
    ],
  },
  "welcome.safety": {
    text: "Is it safe for you to write here now?",
    choices: [
      { id: "safe", label: "Yes, it is safe" },
      { id: "unsure", label: "I am not sure" },
      { id: "unsafe", label: "No" },
    ],
  },
  "menu.menu": {
    text: "What would you like to do?",
    choices: [{ id: "check", label: "Check my situation" }],
  },
};

// The screening, in Faros' order (flows/screening.yaml) without its follow-up questions, which
// only a "yes" reaches and the measured walk answers "no".
const screening = [
  ["minor", "Are you under 18?"],
  ["danger", "Are you in danger now, or afraid you will be hurt today?"],
  ["promise", "Is the work, the pay or the conditions not what you were promised?"],
  ["not_agreed", "Do you do work or other things you did not agree to?"],
  ["sex_money", "Are you made to have sex, or does someone else take the money?"],
  ["can_leave", "Can you stop or leave when you want?"],
  ["documents", "Does someone keep your passport or ID?"],
  ["debt", "Do you owe money to whoever brought you or employs you?"],
  ["journey", "Are you working to pay back your journey?"],
  ["hurt", "Has anyone hit you or forced you into sex?"],
  ["threats", "Has anyone threatened you or your family?"],
  ["afraid", "Are you afraid of what happens if you stop or leave?"],
  ["wages", "Are you unpaid, or does someone else take most of the money?"],
  ["hours", "Do you work very long hours without days off?"],
  ["isolation", "Are you kept from having a phone or going out alone?"],
  ["housing", "Do you live where the boss decides, in bad conditions?"],
  ["dependence", "Do you depend on the boss for a home, papers or food?"],
].map(([node, text]) => ({ id: `screening.${node}`, text }));
for (const q of screening) questions[q.id] = { text: q.text, choices: answers };

// Every message as Faros sends it: it cannot be forwarded or saved, and the phone stays quiet,
// since someone else may hold it.
const quietly = { protect_content: true, disable_notification: true };

// ask sends question, after the lines that lead to it, in one message as Faros does (fewer
// sends, kinder to Telegram's pace), with one button a row, and waits for its answer.
async function ask(ctx, id, ...lines) {
  const q = questions[id];
  const keyboard = InlineKeyboard.from(q.choices.map((c) => [InlineKeyboard.text(c.label, `${id}/${c.id}`)]));
  await ctx.reply([...lines, q.text].join("\n\n"), { ...quietly, reply_markup: keyboard });
  ctx.session.waiting = id;
}

// next is what follows each answer: the person's choice, given the session.
function next(ctx, id, choice) {
  const s = ctx.session;
  switch (id) {
    case "welcome.language":
      s.lang = choice;
      return ask(ctx, "welcome.safety", "Hello. This chat is private.");
    case "welcome.safety":
      return ask(ctx, "menu.menu", choice === "safe"
        ? "What you write stays between you and us. You can leave at any time."
        : "If someone may read this, delete the chat when you are done.");
    case "menu.menu":
      s.yes = 0;
      return ask(ctx, screening[0].id, "A few questions. Answer with the buttons; skip any.");
  }
  if (choice === "yes") s.yes++;
  const i = screening.findIndex((q) => q.id === id);
  if (i + 1 < screening.length) return ask(ctx, screening[i + 1].id);
  return ask(ctx, "menu.menu", result(s.yes), "No counsellor is available in this benchmark.");
}

function result(yes) {
  if (yes >= 2) return "What you said points to a serious risk.";
  if (yes === 1) return "What you said may point to a risk.";
  return "Nothing you said points to a risk.";
}

const redis = new Redis(config.redisURL, { keyPrefix: config.prefix });
const bot = new Bot(config.token, { client: { apiRoot: config.apiRoot } });
const pm = bot.chatType("private");

pm.use(session({
  initial: () => ({ waiting: "welcome.language", lang: "en", yes: 0 }),
  storage: new RedisAdapter({ instance: redis, ttl: sessionSeconds }),
}));

pm.command("start", (ctx) => ask(ctx, "welcome.language"));

pm.on("callback_query:data", async (ctx) => {
  await ctx.answerCallbackQuery();
  const [id, choice] = ctx.callbackQuery.data.split("/");
  const waiting = ctx.session.waiting;
  if (id !== waiting || !questions[id].choices.some((c) => c.id === choice)) {
    return ask(ctx, waiting); // an old button, or a made-up one: the question still open, again
  }
  return next(ctx, id, choice);
});

// Anything else typed: the question still open, again.
pm.on("message", (ctx) => ask(ctx, ctx.session.waiting));

// Errors are logged without the update, which holds what the person wrote.
bot.catch((err) => {
  const e = err.error;
  console.error("peer: update failed:", e instanceof GrammyError ? `${e.method}: ${e.description}` : String(e?.message ?? e));
});

async function main() {
  await bot.init(); // getMe, once, before the first update
  const handle = webhookCallback(bot, "http", { secretToken: config.secret });
  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || req.url !== webhookPath) {
      res.writeHead(404).end();
      return;
    }
    handle(req, res).catch((e) => {
      console.error("peer: webhook:", e?.message ?? e);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.listen(config.port, "127.0.0.1", () => {
    const { address, port } = server.address();
    console.log(`listening ${address}:${port}`);
  });
  const stop = () => {
    server.close();
    redis.quit().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => {
  console.error("peer:", e?.message ?? e);
  process.exit(1);
});
