// The cards' buttons: an action against the API, then a re-draw; a failure is shown in the card's
// message line instead.

/** Returns `act(fn)`: a click handler that runs fn, then `changed()`; errors go to `message`. */
export function actionRunner(message, changed) {
  return (fn) => async () => {
    message.textContent = "";
    try {
      await fn();
      await changed();
    } catch (error) {
      message.textContent = error.message;
    }
  };
}
