/** The customers module's public service API (minimal clients family for now). */
export { clientExists, toClientView, type ClientView } from './client-view.ts';
export { createClient, type CreateClientOptions } from './create-client.ts';
export { listClients } from './list-clients.ts';
export { getClient } from './get-client.ts';
export { updateClient, type UpdateClientOptions } from './update-client.ts';
export { customerRoutes } from './routes.ts';
