import { Notification } from '@jupyterlab/apputils';

/**
 * The notifications on show, as the notification center lists them.
 */
export function shown(): Notification.INotification[] {
  return Notification.manager.notifications;
}

/**
 * Click an action of a notification as its toast button does: run the
 * callback, then dismiss the notification unless the callback prevented it.
 */
export function click(notification: Notification.INotification, label: string) {
  const action = notification.options.actions?.find(a => a.label === label);
  if (!action) {
    throw new Error(`no action ${label}`);
  }
  const event = new MouseEvent('click', { cancelable: true });
  action.callback(event);
  if (!event.defaultPrevented) {
    Notification.dismiss(notification.id);
  }
}

export function until(check: () => boolean, timeout = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) {
        resolve();
      } else if (Date.now() - start > timeout) {
        reject(new Error('timed out'));
      } else {
        setTimeout(poll, 10);
      }
    };
    poll();
  });
}
