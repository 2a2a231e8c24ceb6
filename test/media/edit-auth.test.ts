// parseEditAuth, toEditAuth and basicAuthorization: edit_auth as the client sends it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { basicAuthorization, parseEditAuth, toEditAuth } from '../../lib/media/edit-auth.ts';
import { EditAuthFormatError } from '../../lib/media/errors.ts';

const parse = suite('parseEditAuth');

parse('splits at the first colon, so passwords may contain colons', () => {
  assert.equal(parseEditAuth('root:password'), { login: 'root', password: 'password' });
  assert.equal(parseEditAuth('admin:a:b:c'), { login: 'admin', password: 'a:b:c' });
});

parse('refuses a missing colon, login or password without echoing the value', () => {
  for (const text of ['rootsecret', ':secret', 'root:', '']) {
    assert.throws(() => parseEditAuth(text), (error: unknown) => error instanceof EditAuthFormatError && (text === '' || !error.message.includes(text)));
  }
});

parse.run();

// ---

const pair = suite('toEditAuth');

pair('takes either form', () => {
  assert.equal(toEditAuth('a:b'), { login: 'a', password: 'b' });
  assert.equal(toEditAuth({ login: 'a', password: 'b:c' }), { login: 'a', password: 'b:c' });
  assert.throws(() => toEditAuth({ login: 'a:x', password: 'b' }), (error: unknown) => error instanceof EditAuthFormatError);
});

pair.run();

// ---

const header = suite('basicAuthorization');

header('is Basic base64(login:password), as in the Flussonic docs', () => {
  // `echo -n root:password | base64` = cm9vdDpwYXNzd29yZA== (the k8s-tutorial probes' token)
  assert.is(basicAuthorization({ login: 'root', password: 'password' }), 'Basic cm9vdDpwYXNzd29yZA==');
});

header.run();
