/**
 * Test only: an extension that records events the way extensions written for
 * JupyterLab alone do, through `app.serviceManager.events` (the
 * `IEventManager`), with no import of jupyter-events-ext. The Galata tests
 * drive it through `window.coreApiExtension`.
 */
const plugin = {
  id: 'core-api-extension:plugin',
  description: 'Emits and receives events through JupyterLab’s event API.',
  autoStart: true,
  activate: app => {
    const events = app.serviceManager.events;
    // Every emission of the stream since the page loaded.
    const received = [];
    events.stream.connect((_, emission) => received.push(emission));
    window.coreApiExtension = {
      received,
      /**
       * Emit these events, in order, and say how each promise settled.
       */
      emit: async requests => {
        const settled = await Promise.allSettled(
          requests.map(request => events.emit(request))
        );
        return settled.map(result => result.status);
      }
    };
  }
};

export default plugin;
