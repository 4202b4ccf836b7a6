// A SPA developer's first steps with a client generated from /api/openapi.json by @hey-api/openapi-ts:
// an operator creates an account, the customer creates a domain and lists its domains. Compiled with tsc, so the
// generated types must fit the calls; run by tests/RelayFunctions.Tests/Api/OpenApiDocumentTests.cs.
import { client } from './client/client.gen';
import { createDomain, listDomains, putAccount } from './client/sdk.gen';
import type { DomainView } from './client/types.gen';

const [baseUrl, operatorToken, customerToken, account] = process.argv.slice(2);

async function main(): Promise<void> {
  client.setConfig({ baseUrl, auth: () => operatorToken });
  const created = await putAccount({
    path: { accountId: account },
    body: { serviceLevel: 'standard', primaryEmail: `owner@${account}.example` },
  });
  if (created.response?.status !== 201) {
    throw new Error(`putAccount answered ${created.response?.status}: ${String(created.error)} ${JSON.stringify(created.error)}`);
  }

  client.setConfig({ baseUrl, auth: () => customerToken });
  const domain = await createDomain({
    body: { name: `${account}.example`, mode: 'redirect', destinationHost: `mail.${account}.example`, destinationPort: 2525 },
  });
  if (domain.error !== undefined || domain.data === undefined) {
    throw new Error(`createDomain answered ${domain.response.status}: ${JSON.stringify(domain.error)}`);
  }
  const etag = domain.response.headers.get('ETag');
  const location = domain.response.headers.get('Location');

  const list = await listDomains();
  if (list.data === undefined) {
    throw new Error(`listDomains answered ${list.response.status}: ${JSON.stringify(list.error)}`);
  }
  const names: string[] = list.data.domains.map((d: DomainView) => d.name);
  console.log(JSON.stringify({ created: domain.data.name, mode: domain.data.mode, port: domain.data.destinationPort, etag, location, names }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
