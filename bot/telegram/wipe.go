package telegram

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// maxDelete is the most message ids one deleteMessages call takes.
const maxDelete = 100

// Wipe drops the messages still queued for the chat, whose Send then returns an error wrapping
// ErrWiped, records the wipe in the outbox (so that the other instances drop theirs and nobody
// takes over the chat's earlier messages), and deletes msgIDs from it: the person's messages
// (bot.Message.MsgID) and the bot's (Config.Sent). A message in flight is not stopped, but not
// tried again if it fails. msgIDs are deleted as Delete does it.
func (c *Channel) Wipe(ctx context.Context, chatID string, msgIDs []string) error {
	// The chat id and the message ids are left out of errors and logs.
	if !isInt(chatID) {
		return errors.New("telegram: wipe: chat id is not a number")
	}
	c.screens.forget(chatID) // nothing of the chat is left to edit
	var errs []error
	if err := c.out.Wipe(ctx, chatID); err != nil { // logged: not recorded in the outbox
		errs = append(errs, fmt.Errorf("telegram: wipe: %w", err))
	}
	errs = append(errs, c.deleteAll(ctx, "wipe", chatID, msgIDs)...)
	return errors.Join(errs...)
}

// Delete deletes msgIDs from the chat, such as the messages of a closed case in a counsellor's
// chat (Config.Sent reports them with their tag). Unlike Wipe it leaves the chat's queued
// messages alone, here and on the other instances: the chat goes on.
//
// Ids that are not positive decimal integers are skipped. Telegram deletes only messages under
// 48 hours old and does not tell which ids it could not delete. The ids go in batches of 100,
// in order. A batch is tried again after a 429 (once its retry_after has passed), a 5xx or a
// network error, up to Config.Retries times; one that fails does not stop the next. The error
// joins those of the batches that failed.
func (c *Channel) Delete(ctx context.Context, chatID string, msgIDs []string) error {
	// The chat id and the message ids are left out of errors and logs.
	if !isInt(chatID) {
		return errors.New("telegram: delete: chat id is not a number")
	}
	return errors.Join(c.deleteAll(ctx, "delete", chatID, msgIDs)...)
}

// deleteAll deletes msgIDs from the chat in batches, as Delete says, and returns the errors of
// the batches that failed. op names the caller in the errors.
func (c *Channel) deleteAll(ctx context.Context, op, chatID string, msgIDs []string) []error {
	var ids []int64
	for _, s := range msgIDs {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	var errs []error
	for batch := range slices.Chunk(ids, maxDelete) {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("telegram: %s: %w", op, ctx.Err()))
			break
		}
		if err := c.deleteMessages(ctx, chatID, batch); err != nil {
			c.log.Warn("telegram: delete messages", "count", len(batch), "error", err)
			errs = append(errs, fmt.Errorf("telegram: %s: delete %d messages: %w", op, len(batch), err))
		}
	}
	return errs
}

// deleteMessages makes one deleteMessages call (see request). The call is not paced with the
// sends: it is no message.
func (c *Channel) deleteMessages(ctx context.Context, chatID string, ids []int64) error {
	params := tgbotapi.Params{"chat_id": chatID}
	_ = params.AddInterface("message_ids", ids) // numbers only: never fails
	return c.request(ctx, "deleteMessages", params)
}
