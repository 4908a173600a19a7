"""The REST part of an unmodified discord.py, pointed at a Beep node.

Usage: python3 discordpy_client.py BASE_URL BOT_TOKEN CHANNEL_ID
Prints one line per step and exits non-zero on the first failure.
"""

import asyncio
import sys

import discord
from discord.http import Route


async def main(base: str, token: str, channel_id: int) -> None:
    Route.BASE = base
    client = discord.Client(intents=discord.Intents.none())
    await client.login(token)
    print("login", client.user.name, client.user.bot, client.application_id)
    try:
        channel = await client.fetch_channel(channel_id)
        assert isinstance(channel, discord.TextChannel), type(channel)
        print("channel", channel.name)

        sent = await channel.send("hello from discord.py", nonce="dpy-1")
        assert sent.content == "hello from discord.py", sent.content
        assert sent.author.id == client.user.id
        print("sent", sent.id)

        history = [m async for m in channel.history(limit=10)]
        assert any(m.id == sent.id for m in history), [m.id for m in history]
        print("history", len(history))

        older = [m async for m in channel.history(limit=5, before=sent)]
        print("before", len(older))

        edited = await sent.edit(content="edited by discord.py")
        assert edited.content == "edited by discord.py", edited.content
        assert edited.edited_at is not None
        print("edited", edited.edited_at.isoformat())

        await sent.add_reaction("\N{FIRE}")
        fetched = await channel.fetch_message(sent.id)
        assert len(fetched.reactions) == 1, fetched.reactions
        assert fetched.reactions[0].count == 1 and fetched.reactions[0].me
        assert str(fetched.reactions[0].emoji) == "\N{FIRE}"
        print("reacted", fetched.reactions[0].count)

        reply = await sent.reply("a reply", mention_author=False)
        assert reply.reference is not None and reply.reference.message_id == sent.id
        print("replied", reply.id)

        await sent.pin()
        pins = await channel.pins()
        assert [p.id for p in pins] == [sent.id], pins
        print("pinned", len(pins))
        await sent.unpin()

        await sent.remove_reaction("\N{FIRE}", client.user)
        await sent.delete()
        try:
            await channel.fetch_message(sent.id)
        except discord.NotFound:
            print("deleted")
        else:
            raise AssertionError("the message is still there")
    finally:
        await client.close()
    print("ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
