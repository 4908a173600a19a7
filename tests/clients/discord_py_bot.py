"""A stock discord.py 2.7 bot pointed at Beep, as CLIENTS.md describes.

Environment: BEEP_API (http://host:port/api/v10), BEEP_GATEWAY (ws URL from
GET /gateway), BEEP_TOKEN (bot token). Prints one JSON object per line:
{"event": "ready", ...} with its guilds, {"event": "message", ...} for each
message from someone else, and {"event": "replied", ...} after answering a
message starting with "ping". Exits after BEEP_LIFETIME seconds (default 60).
"""

import asyncio
import json
import os

import discord
import yarl
from discord.http import Route

Route.BASE = os.environ["BEEP_API"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["BEEP_GATEWAY"])

intents = discord.Intents.default()
intents.message_content = True
intents.members = True
client = discord.Client(intents=intents)


def out(**kw):
    print(json.dumps(kw), flush=True)


@client.event
async def on_ready():
    out(
        event="ready",
        user=str(client.user.id),
        guilds=[
            {
                "id": str(g.id),
                "name": g.name,
                "channels": sorted(c.name for c in g.channels),
                "member_count": g.member_count,
                "members": len(g.members),
            }
            for g in client.guilds
        ],
    )


@client.event
async def on_message(message):
    if message.author.id == client.user.id:
        return
    out(event="message", content=message.content, channel=str(message.channel.id),
        author=str(message.author.id), guild=str(message.guild.id) if message.guild else None)
    if message.content.startswith("ping"):
        reply = await message.reply("pong from discord.py")
        out(event="replied", id=str(reply.id), content=reply.content)


async def main():
    async with client:
        asyncio.get_running_loop().call_later(float(os.environ.get("BEEP_LIFETIME", "60")),
                                              lambda: asyncio.ensure_future(client.close()))
        await client.start(os.environ["BEEP_TOKEN"])


asyncio.run(main())
