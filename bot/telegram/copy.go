package telegram

import (
	"context"
	"errors"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot/deliver"
)

// methodCopy is the Bot API method of Copy: a copy carries no link to the original, so the
// counsellor does not see who sent it.
const methodCopy = "copyMessage"

// Copy copies message msgID of chat fromChat into chat toChat: what a person sent that is not
// text (bot.Message.Media), shown to their counsellor. Faros never fetches it; Telegram copies
// it from chat to chat. The copy is protected from forwarding and saving, and it rings: a
// counsellor must notice it.
//
// It goes through the outbound queue like a Send to toChat, in order with that chat's other
// messages, and Copy waits for it as Send does: it returns nil once Telegram has taken it, the
// error of the message given up, or ctx's error, after which the copy stays queued. Its id is
// reported to Config.Sent with tag.
func (c *Channel) Copy(ctx context.Context, toChat, fromChat, msgID, tag string) error {
	// The ids are left out of errors, which get logged.
	if !isInt(toChat) || !isInt(fromChat) {
		return errors.New("telegram: copy: chat id is not a number")
	}
	if id, err := strconv.ParseInt(msgID, 10, 64); err != nil || id <= 0 {
		return errors.New("telegram: copy: message id is not a positive number")
	}
	o := outgoing{
		Chat:   toChat,
		Method: methodCopy,
		Params: tgbotapi.Params{
			"chat_id":         toChat,
			"from_chat_id":    fromChat,
			"message_id":      msgID,
			"protect_content": "true",
		},
		Tag:    tag,
		Queued: time.Now().UnixMilli(),
	}
	return c.out.Send(ctx, "copy", []deliver.Message{o.message()})
}

// isInt says whether s is a decimal integer, as Telegram's chat ids are.
func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}
