using Microsoft.Extensions.Options;

namespace RelayFunctions.Hosting;

/// <summary>
/// Every settings class is checked when the app starts (<c>ValidateOnStart</c>): a wrong value stops the app before it
/// serves anything, with one line per problem naming the setting as it is written in the environment
/// (<c>Helpers__BucketSize</c>), instead of a stack trace at the first request that needs it.
/// </summary>
public static class Settings
{
    /// <summary>Binds <typeparamref name="T"/> to the configuration section <paramref name="section"/> and checks it at start.</summary>
    public static IServiceCollection AddCheckedOptions<T>(
        this IServiceCollection services, IConfiguration configuration, string section, Action<T, SettingErrors> check)
        where T : class
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).Checked(section, check);
        return services;
    }

    /// <summary>Checks the options with <paramref name="check"/> at start; <paramref name="section"/> names their settings in messages.</summary>
    public static OptionsBuilder<T> Checked<T>(this OptionsBuilder<T> builder, string section, Action<T, SettingErrors> check)
        where T : class
    {
        builder.Services.AddSingleton<IValidateOptions<T>>(new Validator<T>(section, check));
        return builder.ValidateOnStart();
    }

    /// <summary>
    /// Runs every start-time check now. False when a setting is wrong or cannot be read, with what is wrong written to
    /// <paramref name="error"/>; the host would otherwise log the same failure as a crash.
    /// </summary>
    public static bool AreValid(IServiceProvider services, TextWriter error)
    {
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            return true;
        }
        catch (Exception e) when (e is OptionsValidationException or AggregateException or InvalidOperationException)
        {
            var failures = e is AggregateException all
                ? all.InnerExceptions.SelectMany(Failures)
                : Failures(e);
            error.WriteLine("The app cannot start: some settings are not valid.");
            foreach (var failure in failures)
            {
                error.WriteLine($"  {failure}");
            }
            return false;
        }
    }

    private static IEnumerable<string> Failures(Exception e) =>
        e is OptionsValidationException validation ? validation.Failures : [e.Message];

    private sealed class Validator<T>(string section, Action<T, SettingErrors> check) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = new SettingErrors(section);
            check(options, errors);
            return errors.Any ? ValidateOptionsResult.Fail(errors.Messages) : ValidateOptionsResult.Success;
        }
    }
}

/// <summary>Problems with one settings section, each naming its setting (<c>Section__Key</c>).</summary>
public sealed class SettingErrors(string section)
{
    private readonly List<string> _messages = [];

    public bool Any => _messages.Count > 0;

    public IReadOnlyList<string> Messages => _messages;

    /// <summary>The environment-variable name of a key in this section.</summary>
    public string Name(string key) => string.IsNullOrEmpty(section) ? key : $"{section.Replace(":", "__", StringComparison.Ordinal)}__{key}";

    public void Require(bool condition, string key, string problem)
    {
        if (!condition)
        {
            _messages.Add($"{Name(key)}: {problem}");
        }
    }

    public void Positive(TimeSpan value, string key) => Require(value > TimeSpan.Zero, key, $"must be a positive time span such as 00:01:00 (is {value}).");

    public void Schedule(string expression, string key) =>
        Require(Timers.TimerSchedule.TryParse(expression, out _), key, $"'{expression}' is not a six-field NCRONTAB expression (second minute hour day month day-of-week).");
}
