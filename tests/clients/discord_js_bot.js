// A stock discord.js 14 bot pointed at Beep, as CLIENTS.md describes.
//
// Environment: BEEP_REST (http://host:port/api), BEEP_TOKEN (bot token). The
// gateway URL comes from GET /api/v10/gateway/bot. Prints one JSON object per
// line: {"event":"ready",...} with its guilds, {"event":"message",...} for each
// message from someone else, {"event":"replied",...} after answering "ping".
// Exits after BEEP_LIFETIME seconds (default 60).
const { Client, GatewayIntentBits, Events } = require("discord.js");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const client = new Client({
  intents: [
    GatewayIntentBits.Guilds,
    GatewayIntentBits.GuildMessages,
    GatewayIntentBits.MessageContent,
    GatewayIntentBits.GuildMembers,
  ],
  rest: { api: process.env.BEEP_REST, version: "10" },
});

if (process.env.BEEP_DEBUG) client.on("debug", (m) => process.stderr.write(`[debug] ${m}\n`));

const onReady = (c) => {
  out({
    event: "ready",
    user: c.user.id,
    guilds: c.guilds.cache.map((g) => ({
      id: g.id,
      name: g.name,
      channels: g.channels.cache.map((ch) => ch.name).sort(),
      member_count: g.memberCount,
    })),
  });
};
// `clientReady` in recent 14.x releases, `ready` before.
client.once("clientReady", onReady);
client.once("ready", (c) => {
  if (client.listenerCount("clientReady") > 0 && Events.ClientReady === "clientReady") return;
  onReady(c);
});

client.on(Events.MessageCreate, async (message) => {
  if (message.author.id === client.user.id) return;
  out({ event: "message", content: message.content, channel: message.channelId, author: message.author.id, guild: message.guildId });
  if (message.content.startsWith("ping")) {
    const reply = await message.reply("pong from discord.js");
    out({ event: "replied", id: reply.id, content: reply.content });
  }
});

setTimeout(() => { client.destroy(); process.exit(0); }, 1000 * Number(process.env.BEEP_LIFETIME || 60));
client.login(process.env.BEEP_TOKEN).catch((e) => { out({ event: "error", error: String(e) }); process.exit(1); });
