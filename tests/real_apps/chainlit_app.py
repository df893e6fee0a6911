# The smallest Chainlit app: `chainlit run chainlit_app.py --headless --port P`.
# Chainlit serves its own Socket.IO server at /ws/socket.io (chainlit/server.py, 2.12.0);
# this file only gives it a message handler, so what the tests see is Chainlit itself.
import chainlit as cl


@cl.on_message
async def on_message(message: cl.Message):
    await cl.Message(content=f"echo: {message.content}").send()
