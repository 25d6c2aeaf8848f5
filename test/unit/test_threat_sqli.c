/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp/threat/sqli/: SQL injection in a value, from the common cheat sheets,
 * against ordinary values; its evidence, hostile input, linear time.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "threat_util.h"
#include "dp/threat/app/detect.h"

static bool sqli(const char *s, struct threat_hit *hit)
{
	bool r = threat_sqli(s, strlen(s), hit);

	if (r) {
		ck_assert_int_eq(hit->id, THREAT_SQL_INJECTION);
		assert_evidence(hit);
	}
	return r;
}

/* injections in the styles of the common cheat sheets */
static const char *const sqli_yes[] = {
	"' OR 1=1--",
	"' or 1=1#",
	"admin'--",
	"admin' --",
	"admin'#",
	"admin'/*",
	"admin';--",
	"' OR 'a'='a",
	"' or 'x'='x",
	"') OR ('1'='1",
	"1' OR '1'='1",
	"\" OR \"\"=\"",
	"' OR ''='",
	"'='",
	"x'='x",
	"admin' or '1'='1'/*",
	"' OR 1 --",
	"' or true--",
	"'/**/OR/**/'1'='1",
	"' oR/**/1=1--",
	"x' XOR 1=1 XOR 'z",
	"1' && '1'='1",
	"1' || 'a'='a",
	"\\' OR 1=1 -- ",
	"%' AND 1=1 AND '%'='",
	"x' AND 1=0 UNION ALL SELECT NULL,NULL--",
	"1 UNION SELECT username, password FROM users",
	"-1 union all select 1,2,3,@@version--",
	"0 UNION/**/SELECT/**/1,2",
	"1/*!50000UNION*//*!50000SELECT*/1,2",
	"' UNION SELECT load_file('/etc/passwd')--",
	"1 UNION (SELECT table_name FROM information_schema.tables)",
	"' union distinct select user(),2#",
	"1; DROP TABLE users",
	"x'; DROP TABLE members; --",
	"1; SELECT pg_sleep(10)--",
	"'; EXEC xp_cmdshell 'dir'--",
	"'; exec master..xp_cmdshell 'ping 10.0.0.1'--",
	"1'; INSERT INTO users VALUES ('x','y')--",
	"1; UPDATE users SET role='admin'",
	"1; DELETE FROM logs",
	"1; SHUTDOWN--",
	"1; truncate table audit",
	"1; declare @s varchar(99)",
	"x'; create user eve identified by 'x'--",
	"1' AND SLEEP(5)--",
	"1 AND SLEEP(5)",
	"' or sleep(5)#",
	"sleep(5)",
	"1-SLEEP(5)",
	"1) AND BENCHMARK(5000000,MD5(1))--",
	"'; WAITFOR DELAY '0:0:5'--",
	"1; waitfor delay '00:00:10'",
	"' || pg_sleep(10)--",
	"1' AND randomblob(100000000)--",
	"1 and dbms_pipe.receive_message(('a'),10)=1",
	"'XOR(if(now()=sysdate(),sleep(5),0))XOR'",
	"1 OR 1=1",
	"1 or 1=1--",
	"1) or (1=1",
	"-1 OR 2>1",
	"1 AND 1=CONVERT(int,@@version)",
	"1 and ascii(substring(user(),1,1))>64",
	"' AND extractvalue(1,concat(0x7e,version()))--",
	"' and updatexml(null,concat(0x0a,user()),null)-- -",
	"1' ORDER BY 3--",
	"' HAVING 1=1--",
	"'||(SELECT password FROM users WHERE rownum=1)||'",
	"'+(select top 1 name from sysobjects)+'",
	"' AND (SELECT COUNT(*) FROM users) > 0 --",
	"1' and ascii(substring((select database()),1,1))>97--",
	"' AND 1=(SELECT 1 FROM pg_sleep(5))--",
	"' or username=username--",
	"\" or 1=1 or \"\"=\"",
	"search' OR 'x' LIKE 'x",
	"1'\n OR\t1=1\r\n--",
	"admin\") --",
	"1;select 1",
	"1' and 1=2 union select 1,2--",
	"1 AND (SELECT 1 FROM (SELECT SLEEP(5))a)",
	"';shutdown --",
};

/* ordinary text, some of it looking a little like SQL */
static const char *const sqli_no[] = {
	"O'Brien",
	"it's a dog's life",
	"rock 'n' roll",
	"select a size",
	"Please select a size and colour",
	"union station",
	"The Union Select Committee met",
	"union select all from them",
	"1=1 is true",
	"2+2=4",
	"john.smith@example.com",
	"first.last+tag@mail.example.org",
	"{\"name\": \"O'Brien\", \"age\": 42}",
	"{\"query\": \"select\", \"or\": 1, \"union\": [1, 2]}",
	"[{\"id\":1,\"tags\":[\"a\",\"b\"]},{\"id\":2}]",
	"SGVsbG8gV29ybGQhIE9yIDE9MQ==",
	"aGVsbG8rd29ybGQ/Lz0=",
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
	"https://www.example.com/search?q=union+station&lang=en",
	"http://a.example/a/b;c=d?e=f#g",
	"Tom & Jerry; or not",
	"Hello; select your seat",
	"I said 'hello' -- then left",
	"Students' or teachers = all",
	"Press '#' to continue",
	"a '=' sign",
	"I 'like' it",
	"The 'or' operator",
	"5' 11\" tall",
	"Don't stop; believe",
	"you and me = us",
	"Sleep (8 hours) matters",
	"need sleep(8)",
	"sleep(8) hours a night",
	"Benchmark(2023) results",
	"1 or 2",
	"3 and 4 are numbers",
	"10 OR MORE ITEMS",
	"order by price",
	"The shop's order by phone",
	"McDonald's; drop by anytime",
	"Let's meet at 5; delete this later",
	"SELECT",
	"-- just a dash line --",
	"#hashtag",
	"C# and F#",
	"x = y + 1",
	"ISBN 978-3-16-148410-0",
	"\"quoted\" and \"more\"",
	"path/to/file.txt",
	"f(x) = x^2",
	"1,2,3",
	"(555) 123-4567",
	"We're #1!",
	"the year 1999 -- or was it 2000?",
	"1999 -- or was it 2000?",
	"It's 'union' select time",
	"UNION ALL",
	"Who's there? -- nobody",
	"Ain't it 'fun' and 'games'",
	"He said \"yes\" or \"no\"",
	"drop table? no, the table fell",
	"<script>alert(1)</script>",
	"SELECT * FROM is not a search term; or is it",
	"café ünïcode 'straße' naïve",
	"a=1&b=2",
	"",
	"'",
	"''",
	"\"",
	"' '",
	"The film 'Sleep(5)' was long",
	"x'=1",
	"Q&A: what's 'x' = 'y'?",
	"Mr. O'Neil; or was it O'Neill?",
	"it's 5 o'clock; select your drink",
	"SELECT your favourite; union jack",
	"don't' or 'do",
	"it's 'ok'--really",
	"5'10\"",
	"2024-01-01T10:00:00Z",
};

START_TEST(test_sqli_positive)
{
	struct threat_hit hit;

	ck_assert_msg(sqli(sqli_yes[_i], &hit), "missed: %s", sqli_yes[_i]);
}
END_TEST

START_TEST(test_sqli_negative)
{
	struct threat_hit hit;

	ck_assert_msg(!sqli(sqli_no[_i], &hit), "false positive: %s -> %s", sqli_no[_i],
		      hit.evidence);
}
END_TEST

START_TEST(test_sqli_evidence)
{
	static const struct {
		const char *in, *evidence;
	} want[] = {
		{ "' OR 1=1--", "' OR 1=1--" },
		{ "admin'--", "admin'--" },
		{ "x' AND 1=0 UNION ALL SELECT NULL,NULL--", "x' AND 1=0" },
		{ "1 UNION ALL SELECT NULL,NULL--", "UNION ALL SELECT NULL" },
		{ "1; DROP TABLE users", "; DROP TABLE" },
		{ "1 AND SLEEP(5)", "SLEEP(5)" },
	};
	struct threat_hit hit;

	for (size_t i = 0; i < N(want); i++) {
		ck_assert_msg(sqli(want[i].in, &hit), "%s", want[i].in);
		ck_assert_str_eq(hit.evidence, want[i].evidence);
	}
}
END_TEST

/* control bytes and a long tail: evidence stays printable, bounded, marked as cut */
START_TEST(test_sqli_evidence_hostile)
{
	char in[512];
	struct threat_hit hit;

	memset(in, 0, sizeof(in));
	strcpy(in, "' OR 1=1 --\x01\x02\xff\x7f");
	memset(in + strlen(in), 'A', 300);
	ck_assert(threat_sqli(in, strlen(in), &hit));
	assert_evidence(&hit);
	ck_assert_ptr_nonnull(strstr(hit.evidence, "..."));
	/* a NUL inside the value does not end it early */
	ck_assert(threat_sqli("x\0' OR 1=1--", 12, &hit));
	assert_evidence(&hit);
}
END_TEST

/* linear: a long value of quotes, parentheses and comments is done quickly */
START_TEST(test_sqli_long_values)
{
	static char in[1 << 20];
	struct threat_hit hit;
	const char *pieces[] = { "'", "((((", "/*", "'a'='", " or ", "--\n", "union " };

	for (size_t p = 0; p < N(pieces); p++) {
		size_t n = strlen(pieces[p]);

		for (size_t i = 0; i + n <= sizeof(in); i += n)
			memcpy(in + i, pieces[p], n);
		threat_sqli(in, sizeof(in) - sizeof(in) % n, &hit);
	}
	memset(in, 'a', sizeof(in));
	memcpy(in + sizeof(in) - 12, "' OR 1=1 -- ", 12);
	ck_assert(threat_sqli(in, sizeof(in), &hit));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("threat_sqli");
	TCase *tc = tcase_create("sqli");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_sqli_positive, 0, N(sqli_yes));
	tcase_add_loop_test(tc, test_sqli_negative, 0, N(sqli_no));
	tcase_add_test(tc, test_sqli_evidence);
	tcase_add_test(tc, test_sqli_evidence_hostile);
	tcase_add_test(tc, test_sqli_long_values);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
